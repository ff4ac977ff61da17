/**
 * No user content in any log line. Every poison and invalid input of the suite — inbound events,
 * the records they produce, corrupt and unsupported stream records, failing adapters whose errors
 * quote content — goes through the real router and projector handlers with Powertools logging at
 * DEBUG and metrics on; everything written to the console or to stdout/stderr, and every error
 * thrown to the Lambda runtime (which logs it), is scanned for the prompts and user ids used.
 */

import { format } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RouteJobDependencies } from '../../src/commands/route-job.ts';
import { createProjectorHandler } from '../../src/handlers/projector.ts';
import { createRouterHandler } from '../../src/handlers/router.ts';
import type { SubmittedEvent } from '../../src/intake/submission.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import type { AppendOptions, RoutingLog } from '../../src/ports/routing-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { aCanarySubmission, CANARY, poisonSubmissions, sampleSubmissions } from '../support/poison-corpus.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aStreamEvent, aStreamRecord } from '../support/stream-events.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

let captured: string[] = [];

function captureEverything() {
  captured = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      captured.push(format(...args));
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    });
  }
}

/** Every canary, and the prompts and user ids of the shipped samples, found in `text`. */
function leaks(text: string): string[] {
  const samples = sampleSubmissions().flatMap((event) => {
    const detail = event.detail as { prompt?: string; userId?: string };
    return [detail.prompt, detail.userId].filter(
      (value): value is string => typeof value === 'string' && value.length > 3,
    );
  });
  return [...Object.values(CANARY), ...samples].filter((content) => text.includes(content));
}

function aRouter(log: RoutingLog = new InMemoryRoutingLog()) {
  const deps: RouteJobDependencies = {
    log,
    credits: new InMemoryCreditBalances(),
    table: defaultRoutingTable,
    ...inMemoryContentPorts(new InMemoryContentVault()),
    now: () => new Date('2026-11-25T10:00:01.000Z'),
    newId: () => 'generated-id',
  };
  return createRouterHandler(deps, createTelemetry('router'));
}

/** Invokes and keeps what the Lambda runtime would log of a thrown error. */
async function invoke<E, R>(handler: (event: E, context: never) => Promise<R>, event: E, component: string) {
  try {
    return await handler(event, aLocalLambdaContext(component) as never);
  } catch (error) {
    captured.push(error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error));
    return undefined;
  }
}

/** A log that keeps what was appended, so the records can be fed to the projector. */
class KeepingLog extends InMemoryRoutingLog {
  readonly appended: RoutingLogRecord[] = [];
  override async appendToStream(
    stream: string,
    records: readonly RoutingLogRecord[],
    options: AppendOptions,
  ) {
    this.appended.push(...records);
    return super.appendToStream(stream, records, options);
  }
}

describe('no user content in any log line', () => {
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    captureEverything();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('given the capture, when content is logged on purpose, then the scan finds it (the scan can fail)', () => {
    createTelemetry('router').logger.debug('leak on purpose', { prompt: CANARY.prompt });
    expect(leaks(captured.join('\n'))).toEqual([CANARY.prompt]);
  });

  it('given every poison, invalid and sample submission, when the router and then the projector handle them, then no log line holds a prompt or user id', async () => {
    const log = new KeepingLog();
    const router = aRouter(log);
    const events: SubmittedEvent[] = [
      ...poisonSubmissions().map(([, event]) => event),
      ...sampleSubmissions(),
    ];
    // A redelivery and a conflicting duplicate of a valid submission with the canaries.
    const valid = aCanarySubmission({ jobId: 'job-canary' });
    const conflicting = aCanarySubmission({ jobId: 'job-canary', prompt: `${CANARY.prompt} (edited)` });
    for (const event of [...events, valid, valid, conflicting]) await invoke(router, event, 'router');

    const { ports } = fakePorts();
    const projector = createProjectorHandler(ports, createTelemetry('projector'));
    await invoke(projector, aStreamEvent(log.appended.map((record) => aStreamRecord(record))), 'projector');

    expect(log.appended.length).toBeGreaterThanOrEqual(events.length);
    expect(captured.join('\n')).toMatch(/routing decision recorded/);
    expect(captured.join('\n')).toMatch(/conflicting duplicate refused/);
    expect(leaks(captured.join('\n'))).toEqual([]);
  });

  it('given the routing log fails with errors that quote the content, when routed, then the thrown error and the log lines hold only facts', async () => {
    const failures = [
      () => JSON.parse(`{"prompt": "${CANARY.prompt}`),
      () => {
        throw new TypeError(
          `The "userId" argument must be of type number. Received type string ('${CANARY.userId}')`,
        );
      },
      () => {
        throw `${CANARY.prompt}`;
      },
    ];
    for (const fail of failures) {
      const router = aRouter({ appendToStream: async () => fail(), readStream: async () => [] });
      await invoke(router, aCanarySubmission(), 'router');
    }
    expect(captured.join('\n')).toMatch(/RoutingFailedError: SyntaxError: Unterminated string in JSON/);
    expect(leaks(captured.join('\n'))).toEqual([]);
  });

  it('given corrupt, unsupported and undecodable stream records and failing effects, when projected, then no log line holds a prompt or user id', async () => {
    const routedLog = new KeepingLog();
    await invoke(aRouter(routedLog), aCanarySubmission({ jobId: 'job-a' }), 'router');
    await invoke(aRouter(routedLog), aCanarySubmission({ jobId: 'job-b', provider: 'replicate' }), 'router');
    await invoke(aRouter(routedLog), aCanarySubmission({ jobId: 'job-c', lengthSec: 60 }), 'router');
    const [routed, other, rejected] = routedLog.appended as [
      RoutingLogRecord,
      RoutingLogRecord,
      RoutingLogRecord,
    ];
    const corruptJob = {
      ...routed,
      data: { ...routed.data, job: `{"prompt": "${CANARY.prompt}", "userId` },
      metadata: { ...routed.metadata, stream: 'job#corrupt', jobId: 'corrupt' },
    } as RoutingLogRecord;
    const records = [
      aStreamRecord(corruptJob),
      aStreamRecord({ ...storedItemOf(routed), type: CANARY.prompt }),
      aStreamRecord({ ...storedItemOf(routed), type: { toString: CANARY.prompt } }),
      aStreamRecord({ ...storedItemOf(routed), schemaVersion: 99 }),
      aStreamRecord(routed),
      aStreamRecord(other),
      aStreamRecord(rejected),
    ];

    const failing = fakePorts();
    failing.queues.throwOnCall = () =>
      new SyntaxError(`Unexpected token 'C', "${CANARY.prompt}" is not valid JSON`);
    failing.bus.throwOnCall = () => new TypeError(`cannot publish '${CANARY.userId}'`);
    failing.jobs.fail = () => new Error(`Jobs item for "${CANARY.userId}" refused`);
    await invoke(
      createProjectorHandler(failing.ports, createTelemetry('projector')),
      aStreamEvent(records),
      'projector',
    );

    const undecodable = aStreamRecord(routed);
    (undecodable.dynamodb as { NewImage: unknown }).NewImage = {
      job: { X: CANARY.prompt },
      userId: { Q: CANARY.userId },
    };
    await invoke(
      createProjectorHandler(fakePorts().ports, createTelemetry('projector')),
      aStreamEvent([undecodable]),
      'projector',
    );

    expect(captured.join('\n')).toMatch(/projection failed/);
    expect(leaks(captured.join('\n'))).toEqual([]);
  });
});
