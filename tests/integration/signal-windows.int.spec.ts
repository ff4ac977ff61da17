/**
 * Signal windows on DynamoDB Local: many signals, some delivered twice, counted at once by several
 * instances (each its own client and adapter, as separate Lambda containers are), then closed. The
 * invariant: the closed windows equal the pure reference fold of the same signals — nothing lost,
 * nothing counted twice — and closing again, or replaying the signals, changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import type { WindowFact } from '../../src/ports/signal-windows.ts';
import { windowPairKey } from '../../src/ports/signal-windows.ts';
import {
  closesAtOf,
  completedFact,
  foldWindows,
  segmentStats,
  startedFact,
  WINDOW_MS,
  windowStartOf,
} from '../../src/provider-health/signal-windows.ts';
import { JOB_STARTED_DETAIL_TYPE, SIGNAL_SOURCE } from '../../src/provider-health/signals.ts';
import { closeDueWindows, countSignals } from '../../src/provider-health/window-counting.ts';
import { anAttemptEvent, aSignalFunction } from '../support/health-signals.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';

quietHandlerTelemetry();

let stack: LocalStack;
const clients: ReturnType<typeof createDocumentClient>[] = [];

beforeAll(async () => {
  stack = await aProvisionedStack();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(() => {
  for (const client of clients) client.destroy();
});

const aStore = () => {
  const client = createDocumentClient();
  clients.push(client);
  return new DynamoDbSignalWindows(client, stack.tables.providerHealth, { windowMs: WINDOW_MS });
};

const START = Date.parse('2026-12-06T10:00:00.000Z');
let run = 0;

/** n signals over three windows of two pairs: starts, successes with run times, failures by class. */
function someSignals(n: number): WindowFact[] {
  const tag = `r${++run}-${Date.now().toString(36)}`;
  const pairs = [
    { provider: `fal${tag}`, model: 'wan-i2v' },
    { provider: `rep${tag}`, model: 'kling' },
  ];
  return Array.from({ length: n }, (_, i) => {
    const pair = pairs[i % 2] as (typeof pairs)[number];
    const atMs = START + (i % 3) * WINDOW_MS + (i % 7) * 1000;
    const key = `${tag}-${i}`;
    if (i % 5 === 0) return startedFact({ key, atMs, ...pair, queueWaitMs: (i % 11) * 1500 });
    return completedFact({
      key,
      atMs,
      ...pair,
      outcome: i % 4 === 0 ? 'failed_terminal' : 'succeeded',
      errorClass: i % 4 === 0 ? (i % 8 === 0 ? 'server_error' : 'timeout') : null,
      runMs: 20_000 + (i % 13) * 9_000,
      costUsd: 0.05 * (1 + (i % 3)),
      job: { resolution: i % 2 === 0 ? '720p' : '1080p', lengthSec: 5 + (i % 4) * 5 },
    });
  });
}

describe('signal windows on DynamoDB Local', () => {
  it('given 400 signals, 80 of them delivered twice, counted by 6 instances at once in batches composed differently, when the windows close, then they equal the reference fold exactly', async () => {
    const facts = someSignals(400);
    // Batches of 7 in arrival order, the redelivered copies in batches of their own (another
    // composition: other fact groups), every batch through one of 6 stores (containers) at once.
    const deliveries = [...facts, ...facts.filter((_, i) => i % 5 === 1)];
    const batches = Array.from({ length: Math.ceil(deliveries.length / 7) }, (_, b) =>
      deliveries.slice(b * 7, b * 7 + 7),
    );
    const stores = Array.from({ length: 6 }, aStore);
    // Delivered while its window is open, as EventBridge does: never after its window is due.
    const openAt = () => START;
    const results = await Promise.all(
      batches.map((batch, i) =>
        countSignals(batch, { windows: stores[i % stores.length] as DynamoDbSignalWindows, now: openAt }),
      ),
    );
    expect(results.flat().filter((r) => r === 'counted')).toHaveLength(480);

    const pairs = [...new Map(facts.map((f) => [windowPairKey(f.pair), f.pair])).values()];
    // Due: the newest of the three windows closes at its end + grace + settle.
    const closeNow = () => closesAtOf(START + 2 * WINDOW_MS);
    const { closed, summaries } = await closeDueWindows(pairs, { windows: aStore(), now: closeNow });
    const reference = foldWindows(facts);
    const byId = (windows: { id: string }[]) => [...windows].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(byId([...closed])).toEqual(byId(reference));
    for (const pair of pairs) {
      const summary = summaries.get(windowPairKey(pair));
      expect(summary?.open).toEqual([]);
      expect(summary?.closed).toHaveLength(3);
    }

    // Replayed after closing: refused as late, and the closed records stay as they are.
    const again = await countSignals(facts, { windows: aStore(), now: closeNow });
    expect(new Set(again)).toEqual(new Set(['late']));
    const reread = await aStore().readSummaries(pairs);
    const rebuilt = pairs.flatMap((pair) => reread.get(windowPairKey(pair))?.closed ?? []);
    expect(byId(rebuilt)).toEqual(byId(reference));
  });

  it('given a signal whose window is already due, when counted, then it is refused as late and not counted', async () => {
    const [fact] = someSignals(1) as [WindowFact];
    const store = aStore();
    expect(await countSignals([fact], { windows: store, now: () => START + 2 * WINDOW_MS })).toEqual([
      'late',
    ]);
    expect((await store.readSummaries([fact.pair])).get(windowPairKey(fact.pair))?.open).toEqual([]);
  });

  it('given started and completed signals through the health-signals handler, when their window is due, then the pair summary has their queue waits and run times', async () => {
    const client = createDocumentClient();
    clients.push(client);
    const windows = aStore();
    const nowMs = Date.now();
    let clock = nowMs;
    const store = new DynamoDbProviderHealthStore(client, {
      health: stack.tables.providerHealth,
      log: stack.tables.routingLog,
    });
    const handle = aSignalFunction(
      { store, windows: { windows, now: () => clock } },
      createTelemetry('health-signals', stack.stage),
    );
    const provider = `fal${Date.now().toString(36)}`;
    const time = new Date(nowMs).toISOString();
    for (let i = 0; i < 3; i++) {
      const jobId = `job-${provider}-${i}`;
      await handle(
        {
          id: `started-${i}`,
          source: SIGNAL_SOURCE,
          'detail-type': JOB_STARTED_DETAIL_TYPE,
          time,
          detail: {
            jobId,
            provider,
            model: 'wan-i2v',
            dispatchId: `${jobId}:v1`,
            queueWaitMs: 4_000,
            ts: time,
          },
        } as never,
        aLocalLambdaContext() as never,
      );
      const completed = anAttemptEvent({
        jobId,
        provider,
        outcome: 'succeeded',
        errorClass: null,
        runMs: 60_000,
        costUsd: 0.4,
      });
      await handle({ ...completed, time } as never, aLocalLambdaContext() as never);
    }
    const pair = { provider, model: 'wan-i2v' };
    clock = closesAtOf(windowStartOf(nowMs));
    const { summaries } = await closeDueWindows([pair], { windows, now: () => clock });
    const stats = segmentStats(summaries.get(windowPairKey(pair))?.closed ?? []);
    expect(stats).toMatchObject({ queueSamples: 3, runSamples: 3, attempts: 3, succeeded: 3 });
    expect(stats.queueP95Ms).toBeGreaterThanOrEqual(4_000);
    expect(stats.runP50Ms).toBeGreaterThanOrEqual(60_000);
    expect(stats.runP50Ms).toBeLessThan(60_000 * Math.SQRT2);
  });
});
