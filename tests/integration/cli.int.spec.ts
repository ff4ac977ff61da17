/**
 * The operator CLI against the emulators: jobs are routed by the real router handler and projected
 * by the real projector (fed by the stream poller like the event source mapping), then each command
 * runs in-process through `runCli`.
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbAuditIndex } from '../../src/aws/dynamodb-audit-index.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { runCli } from '../../src/cli/main.ts';
import { replayProjections } from '../../src/commands/replay-projections.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { handlerEnvironment } from '../../src/local/provision.ts';
import { peekQueue } from '../../src/local/read-back.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { auditWindow } from '../../src/queries/audit-window.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { runCliOn } from '../support/cli-run.ts';
import { silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { routerPortsOn } from '../support/stack-router.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
let poller: DynamoDbStreamPoller;
let projector: Awaited<typeof import('../../src/lambda/projector.ts')>['handler'];
const sqs = new SQSClient({});
let clock = new Date();

const WINDOW = ['--since', '2026-11-20T09:00:00Z', '--until', '2026-11-20T10:00:00Z'];
const jobs = {
  beforeWindow: aSubmissionDetail(),
  fal1: aSubmissionDetail(),
  fal2: aSubmissionDetail({ lengthSec: 4 }),
  falExplicit: aSubmissionDetail({ provider: 'fal', lengthSec: 30, resolution: '1080p' }),
  replicate: aSubmissionDetail({ provider: 'replicate' }),
  noRoute: aSubmissionDetail({ resolution: '4k' }),
  afterWindow: aSubmissionDetail(),
};
const recordedAt: Record<keyof typeof jobs, string> = {
  beforeWindow: '2026-11-19T23:59:59.000Z',
  fal1: '2026-11-20T09:00:00.000Z',
  fal2: '2026-11-20T09:10:00.000Z',
  falExplicit: '2026-11-20T09:20:00.000Z',
  replicate: '2026-11-20T09:30:00.000Z',
  noRoute: '2026-11-20T09:40:00.000Z',
  afterWindow: '2026-11-20T10:00:00.000Z',
};

/** The CLI's clock for relative windows (`--since 1h`); the real clock when unset. */
let cliNow: Date | undefined;

const cli = (...argv: string[]) => runCliOn(stack.stage, argv, cliNow ? { now: () => cliNow as Date } : {});

async function loseEveryMessage(queueUrl: string) {
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

beforeAll(async () => {
  stack = await aProvisionedStack();
  silenceHandlerTelemetry();
  // The projector runs at the records' time too: a transit key outlives its hour by 48 h only.
  projector = createProjectorHandler(
    { ...projectorPorts(loadProjectorConfig(handlerEnvironment(stack))), now: () => clock },
    createTelemetry('projector'),
  );
  const documents = createDocumentClient();
  // The real router, with a clock the test sets: decisions land at known times in the audit index.
  const router = createRouterHandler(
    routerPortsOn(stack, documents, {
      now: () => clock,
      newId: randomUUID,
    }),
    createTelemetry('router'),
  );
  for (const name of Object.keys(jobs) as (keyof typeof jobs)[]) {
    clock = new Date(recordedAt[name]);
    await router(aSubmittedEvent(jobs[name]), aLocalLambdaContext());
  }
  poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  await poller.drain(projector, { minRecords: Object.keys(jobs).length, timeoutMs: 20_000 });
});

afterAll(() => {
  poller?.destroy();
  sqs.destroy();
});

describe('routing-manager history', () => {
  it('given a routed job, when its history is asked, then the decision, its explanation and the projection show', async () => {
    const result = await cli('history', jobs.fal1.jobId as string, '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      jobId: jobs.fal1.jobId,
      job: { jobId: jobs.fal1.jobId, lengthSec: jobs.fal1.lengthSec, resolution: '720p' },
      records: [
        {
          type: 'RoutingDecided',
          version: 1,
          provider: 'fal',
          estimatedCost: { amount: 0.4, unit: 'credits' },
          dispatchId: `${jobs.fal1.jobId}:v1`,
          explanation: { matchedRule: 'auto-short-720p-fal' },
        },
      ],
      // routingDone (a set in the item) as a list: the versions whose effects are all complete.
      projection: { status: 'ROUTED', provider: 'fal', routingVersion: 1, routingDone: [1] },
    });
    expect(result.stdout).not.toMatch(/gsi1pk|gsi1sk|payloadHash|schemaVersion/);
    const table = await cli('history', jobs.noRoute.jobId as string);
    expect(table.stdout).toMatch(/rejected: no_route/);
    expect(table.stdout).toMatch(/auto-short-720p-fal\s+fal\/wan-i2v\s+excluded\s+resolution_mismatch/);
    expect(table.stdout).toMatch(/projection \(Jobs-\w+\): REJECTED reason no_route/);
  });

  it('given an unknown job, when its history is asked, then the exit code is 3', async () => {
    const result = await cli('history', 'job-that-never-was');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no routing record for job job-that-never-was/);
  });

  it('given a stage without tables, when a command runs, then it exits 1 naming the table', async () => {
    const result = await runCli(['--stage', 'missing', 'history', 'j1'], {
      stdout: { write: () => true },
      stderr: {
        write: (text: string) => expect(text).toMatch(/table RoutingLog-missing not found in region/),
      },
      env: process.env,
    });
    expect(result).toBe(1);
  });
});

describe('routing-manager decisions', () => {
  it('given decisions over two days, when fal is audited, then every fal decision comes in time order', async () => {
    const result = await cli(
      'decisions',
      '--provider',
      'fal',
      '--since',
      '2026-11-19',
      '--until',
      '2026-11-21',
      '--json',
    );
    expect(result.code).toBe(0);
    expect(result.lines().map((row) => row.jobId)).toEqual([
      jobs.beforeWindow.jobId,
      jobs.fal1.jobId,
      jobs.fal2.jobId,
      jobs.falExplicit.jobId,
      jobs.afterWindow.jobId,
    ]);
  });

  it('given a window, when audited, then since is inclusive and until exclusive', async () => {
    const result = await cli('decisions', '--provider', 'fal,replicate', ...WINDOW, '--json');
    expect(result.lines().map((row) => row.jobId)).toEqual([
      jobs.fal1.jobId,
      jobs.fal2.jobId,
      jobs.falExplicit.jobId,
      jobs.replicate.jobId,
    ]);
  });

  it('given filters, when audited, then only matching decisions, at most --limit', async () => {
    const rejected = await cli(
      'decisions',
      '--provider',
      'auto',
      ...WINDOW,
      '--outcome',
      'rejected',
      '--reason',
      'no_route',
      '--json',
    );
    expect(rejected.lines()).toMatchObject([
      { jobId: jobs.noRoute.jobId, reason: 'no_route', requestedProvider: 'auto' },
    ]);
    const limited = await cli('decisions', '--provider', 'fal', ...WINDOW, '--limit', '2');
    expect(limited.stdout.trim().split('\n')).toHaveLength(4);
    expect(limited.stderr).toMatch(/2 decision\(s\)/);
  });
});

describe('routing-manager what-if', () => {
  it('given a candidate table sending short auto jobs to replicate, when evaluated, then exactly those decisions change', async () => {
    const candidate = {
      version: 'candidate-replicate-short',
      providers: {
        fal: { queue: 'FalJobQueue', models: { 'wan-i2v': { pricePerSecond: 0.05 } } },
        replicate: { queue: 'ReplicateJobQueue', models: { 'wan-2.1-i2v': { pricePerSecond: 0.09 } } },
      },
      rules: defaultRoutingTable.rules.map((rule) =>
        rule.id === 'auto-short-720p-fal'
          ? { ...rule, route: { provider: 'replicate', model: 'wan-2.1-i2v' } }
          : rule,
      ),
    };
    const file = join(await mkdtemp(join(tmpdir(), 'what-if-')), 'candidate.json');
    await writeFile(file, JSON.stringify(candidate));
    const result = await cli('what-if', '--rules', file, ...WINDOW, '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      rulesVersion: expect.stringMatching(/^candidate-replicate-short@[0-9a-f]{16}$/),
      scanned: 5,
      changed: 2,
      byKind: { outcome: 0, provider: 2, model: 2 },
      transitions: [{ from: 'fal/wan-i2v', to: 'replicate/wan-2.1-i2v', count: 2 }],
      cost: { delta: 0.48 },
    });
    const table = await cli('what-if', '--rules', file, ...WINDOW);
    expect(table.stdout).toMatch(/would change:\s+2/);
  });
});

describe('routing-manager replay after a fal outage', () => {
  const falJobs = () => [jobs.fal1, jobs.fal2, jobs.falExplicit].map((job) => job.jobId as string);
  const ids = (summary: { jobs: { jobId: string; version: number; dispatchId: string }[] }) =>
    summary.jobs
      .map(({ jobId, version, dispatchId }) => ({ jobId, version, dispatchId }))
      .sort((a, b) => a.jobId.localeCompare(b.jobId));

  it('given the fal messages of the window were lost, when a dry run, an interrupted replay and its re-run follow, then each job gets one new dispatch with the ids the dry run named', async () => {
    await loseEveryMessage(stack.queues.fal);
    const replicateBefore = await peekQueue(sqs, stack.queues.replicate);
    cliNow = new Date('2026-11-20T10:00:00.000Z');
    const incident = ['--incident', 'INC-2291', '--provider', 'fal'];

    const dryRun = await cli('replay', ...incident, '--since', '1h', '--dry-run', '--json');
    expect(dryRun.json()).toMatchObject({ dryRun: true, matched: 3, wouldAppend: 3, appended: 0 });
    expect(ids(dryRun.json()).map((job) => job.dispatchId)).toEqual(
      falJobs()
        .sort()
        .map((jobId) => `${jobId}:v2`),
    );

    // The first real run loses its connection after one append.
    const documents = createDocumentClient();
    const log = new DynamoDbRoutingLog(documents, stack.tables.routingLog);
    let appends = 0;
    const interrupted = await replayProjections(
      {
        type: 'ReplayProjections',
        data: {
          incident: 'INC-2291',
          providers: ['fal'],
          outcome: 'routed',
          window: auditWindow('1h', 'now', cliNow),
          why: 'fal outage 09:00-10:00',
          requestedBy: 'ops@example.com',
          dryRun: false,
        },
      },
      {
        log: {
          readStream: (stream) => log.readStream(stream),
          appendToStream: async (stream, records, options) => {
            if (appends++ >= 1) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
            return log.appendToStream(stream, records, options);
          },
        },
        decisions: new DynamoDbAuditIndex(documents, stack.tables.routingLog),
        now: () => cliNow as Date,
      },
    );
    expect(interrupted).toMatchObject({ matched: 3, appended: 1, failed: 2 });

    // Re-run with the window written differently: only the two not sent are appended.
    const rerun = await cli(
      'replay',
      ...incident,
      '--since',
      '2h',
      '--why',
      'fal outage 09:00-10:00',
      '--by',
      'ops@example.com',
      '--json',
    );
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({
      replayId: dryRun.json().replayId,
      incident: 'INC-2291',
      matched: 3,
      appended: 2,
      alreadyReplayed: 1,
    });
    expect(ids(rerun.json())).toEqual(ids(dryRun.json()));
    await poller.drain(projector, { minRecords: 3, timeoutMs: 20_000 });

    const onFal = await peekQueue(sqs, stack.queues.fal);
    const v2 = falJobs().map((jobId) => `${jobId}:v2`);
    expect(onFal.map((m) => m.body.dispatchId).sort()).toEqual(v2.sort());
    expect(onFal.map((m) => m.attributes.dispatchId).sort()).toEqual(v2.sort());
    expect((await peekQueue(sqs, stack.queues.replicate)).map((m) => m.body.dispatchId)).toEqual(
      replicateBefore.map((m) => m.body.dispatchId),
    );

    const history = await cli('history', jobs.fal1.jobId as string, '--json');
    expect(history.json()).toMatchObject({
      records: [
        { version: 1, type: 'RoutingDecided' },
        {
          version: 2,
          type: 'ProjectionReplayRequested',
          replayId: dryRun.json().replayId,
          incident: 'INC-2291',
          replayOf: 1,
          requestedBy: 'ops@example.com',
          why: 'fal outage 09:00-10:00',
          dispatchId: `${jobs.fal1.jobId}:v2`,
        },
      ],
      projection: { status: 'ROUTED', routingVersion: 2 },
    });
    expect((await cli('history', jobs.fal1.jobId as string)).stdout).toMatch(/incident INC-2291/);
  });

  it('given the incident was replayed, when it is run again later with a relative, an open-ended and an absolute window, then nothing more is sent', async () => {
    const runs = [
      ['2026-11-20T10:00:00.000Z', '--since', '1h'],
      ['2026-11-20T10:00:00.000Z', '--since', '2026-11-20T08:00:00Z'],
      ['2026-11-21T15:00:00.000Z', ...WINDOW],
    ] as const;
    for (const [now, ...window] of runs) {
      cliNow = new Date(now);
      const again = await cli(
        'replay',
        '--incident',
        'INC-2291',
        '--provider',
        'fal',
        ...window,
        '--why',
        'again',
        '--json',
      );
      expect(again.json()).toMatchObject({ matched: 3, appended: 0, alreadyReplayed: 3 });
    }
    const drained = await poller.drain(projector, { timeoutMs: 20_000 });
    expect(drained.delivered).toBe(0);
    expect(await peekQueue(sqs, stack.queues.fal)).toHaveLength(3);

    const table = await cli('replay', '--incident', 'INC-2291', '--provider', 'fal', ...WINDOW, '--dry-run');
    expect(table.stdout).toMatch(/already replayed:\s+3/);
    expect(table.stdout).toMatch(/^would append:\s+0$/m);
    cliNow = undefined;
  });
});
