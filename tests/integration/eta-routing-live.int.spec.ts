/**
 * Issue 21's acceptance scenario on the live local stack (`npm run local -- --keep`, in-process on
 * the suite's emulators): with `prefer: "eta"` and run times recorded — completions carrying `runMs`
 * published on the stack's bus — an `auto` job goes to the faster candidate, and its decision
 * records both quotes ("why not fal: p95 … vs …").
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import { type LocalRun, runLocal } from '../../src/local/run-local.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import { streamForJob } from '../../src/log/routing-records.ts';
import { windowPairKey } from '../../src/ports/signal-windows.ts';
import { WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
import { ATTEMPT_DETAIL_TYPE, SIGNAL_SOURCE } from '../../src/provider-health/signals.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';
import { readJob } from '../support/local-aws.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

/** The seed table whose auto rule prefers the faster of fal (written first) and Replicate. */
const preferEta = loadRoutingTable({
  ...structuredClone(defaultRoutingTable),
  version: 'prefer-eta',
  rules: defaultRoutingTable.rules.map((rule) =>
    rule.id === 'auto-short-720p-fal' ? { ...rule, prefer: 'eta' } : rule,
  ),
});

let run: LocalRun;
const documents = createDocumentClient();
beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  run = await runLocal({
    inputs: [],
    rules: { table: preferEta, origin: 'prefer-eta.json' },
    stage: uniqueStage('e'),
    emulators: inject('emulatorEndpoints'),
    live: { report: () => undefined, waitSeconds: 1 },
  });
});
afterAll(async () => {
  await run?.stop();
  documents.destroy();
});

const completion = (provider: string, model: string, runMs: number) => {
  const jobId = `job-${randomUUID()}`;
  return {
    EventBusName: run.stack.eventBusName,
    Source: SIGNAL_SOURCE,
    DetailType: ATTEMPT_DETAIL_TYPE,
    Detail: JSON.stringify({
      jobId,
      provider,
      model,
      dispatchId: `${jobId}:v1`,
      outcome: 'succeeded',
      errorClass: null,
      runMs,
    }),
  };
};

describe('prefer eta on the live local stack', () => {
  it('given prefer eta and completions recording fal at 10 min and Replicate at 1 min, when an auto job is submitted, then it goes to Replicate with both quotes recorded', async () => {
    const events = new EventBridgeClient({});
    try {
      const entries = [
        ...[1, 2, 3].map(() => completion('fal', 'wan-i2v', 600_000)),
        ...[1, 2, 3].map(() => completion('replicate', 'wan-2.1-i2v', 60_000)),
      ];
      const { FailedEntryCount } = await events.send(new PutEventsCommand({ Entries: entries }));
      expect(FailedEntryCount).toBe(0);
      // The stack has counted them (in a window still open or closed since): the run times are recorded.
      const windows = new DynamoDbSignalWindows(documents, run.stack.tables.providerHealth, {
        windowMs: WINDOW_MS,
      });
      const pairs = [
        { provider: 'fal', model: 'wan-i2v' },
        { provider: 'replicate', model: 'wan-2.1-i2v' },
      ];
      await eventually(
        async () => {
          const summaries = await windows.readSummaries(pairs);
          return pairs.every((pair) => {
            const summary = summaries.get(windowPairKey(pair));
            return (summary?.open.length ?? 0) + (summary?.closed.length ?? 0) > 0 || undefined;
          });
        },
        { what: 'both providers’ completions counted' },
      );

      const job = aSubmissionDetail({ provider: 'auto', lengthSec: 8, resolution: '720p' });
      await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: run.stack.eventBusName,
              Source: 'frontend.api',
              DetailType: 'video.job.submitted',
              Detail: JSON.stringify(job),
            },
          ],
        }),
      );
      expect(
        await eventually(async () => (await readJob(run.stack, job.jobId as string))?.status, {
          what: 'the auto job projected',
        }),
      ).toBe('ROUTED');
      const log = new DynamoDbRoutingLog(documents, run.stack.tables.routingLog);
      const { decision } = jobStateOf(await log.readStream(streamForJob(job.jobId as string)));
      expect(decision).toMatchObject({ type: 'RoutingDecided', data: { provider: 'replicate' } });
      const trail = (decision?.data.explanation?.candidates ?? []).filter(
        (c) => c.rule === 'auto-short-720p-fal',
      );
      expect(trail).toMatchObject([
        { provider: 'replicate', verdict: 'selected', quote: { basis: 'model', samples: 3 } },
        {
          provider: 'fal',
          verdict: 'excluded',
          reason: 'not_preferred',
          quote: { basis: 'model', samples: 3 },
        },
      ]);
      const [replicate, fal] = trail.map((c) => c.quote?.etaP95Sec ?? 0);
      expect(fal).toBeGreaterThanOrEqual(600);
      expect(replicate).toBeLessThan(600 / 5);
    } finally {
      events.destroy();
    }
  });
});
