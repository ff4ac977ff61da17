/**
 * Signals at any rate (issue 21) on DynamoDB Local: concurrent batched ingestion with redeliveries
 * (differently composed batches) closes windows equal to the reference fold — nothing lost, nothing
 * counted twice; the same signals in another order and batching rebuild identical windows and
 * identical breaker transitions; and the consecutive-failure fast path still opens the breaker when
 * the successes never touch its item.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import { closeWindowsOnTime } from '../../src/commands/close-windows-on-time.ts';
import { ingestSignalBatch, judgeIn } from '../../src/commands/handle-provider-signal.ts';
import { loadHealthSignalsConfig } from '../../src/config/health-signals-config.ts';
import { healthSignalsDependencies } from '../../src/handlers/health-signals.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
import { windowPairKey } from '../../src/ports/signal-windows.ts';
import { DEFAULT_BREAKER_CONFIG, effectiveStatus } from '../../src/provider-health/breaker.ts';
import {
  closesAtOf,
  completedFact,
  foldWindows,
  WINDOW_GRACE_MS,
  WINDOW_MS,
  WINDOW_SETTLE_MS,
} from '../../src/provider-health/signal-windows.ts';
import { type HealthSignal, parseHealthSignal } from '../../src/provider-health/signals.ts';
import { closeDueWindows, SignalWindowCounter } from '../../src/provider-health/window-counting.ts';
import {
  type anAttemptEvent,
  aRecentAttemptEvent,
  aSignalFunction,
  RECENT_BUCKET,
} from '../support/health-signals.ts';
import { aProvisionedStack, uniqueStage } from '../support/stack.ts';

let stack: LocalStack;
let handler: ReturnType<typeof aSignalFunction>;
const documents = createDocumentClient();
const storeOf = () =>
  new DynamoDbProviderHealthStore(documents, {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });
const BUCKET = RECENT_BUCKET;
const attempt = aRecentAttemptEvent;

beforeAll(async () => {
  stack = await aProvisionedStack();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  // The deployed entry's wiring (src/lambda/health-signals.ts), one signal per SQS batch.
  handler = aSignalFunction(
    healthSignalsDependencies(loadHealthSignalsConfig(process.env)),
    createTelemetry('health-signals', stack.stage),
  );
});

/** Runs `work` over `items` with `inFlight` at a time; the answers in the items' order. */
async function pool<T, R>(
  items: readonly T[],
  inFlight: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T);
      }
    }),
  );
  return out;
}

const parsed = (event: ReturnType<typeof anAttemptEvent>): HealthSignal => {
  const result = parseHealthSignal(event);
  if (!result.ok) throw new Error(result.problem);
  return result.signal;
};

const factOf = ({ attempt, command, model }: HealthSignal) => {
  if (!attempt) throw new Error('an attempt signal expected');
  return completedFact({
    key: command.signalId,
    atMs: Date.parse(command.at),
    provider: attempt.provider,
    model,
    outcome: attempt.outcome,
    errorClass: attempt.errorClass ?? null,
  });
};

/** The ports of one stack's health table, the windows' clock held at `clock.now`. */
function portsOf(target: LocalStack, clock: { now: number }) {
  const store = new DynamoDbProviderHealthStore(documents, {
    health: target.tables.providerHealth,
    log: target.tables.routingLog,
  });
  const windows = new DynamoDbSignalWindows(documents, target.tables.providerHealth, { windowMs: WINDOW_MS });
  return { store, windows, counter: new SignalWindowCounter({ windows, now: () => clock.now }) };
}

describe('signal ingestion against DynamoDB Local', () => {
  it('given 300 successes and 3 failures of one breaker, each delivered twice, when the handler takes them 16 at a time, then no failure counts twice and the register holds the newest success', async () => {
    const model = `i${Date.now().toString(36)}`;
    const successes = Array.from({ length: 300 }, (_, i) =>
      attempt({ model, outcome: 'succeeded', errorClass: null }, i % 25),
    );
    const failures = [5, 12, 20].map((s) => attempt({ model }, s));
    const deliveries = [...successes, ...failures].flatMap((e) => [e, structuredClone(e)]);
    // Shuffled by a fixed permutation: redeliveries race their originals.
    const order = deliveries.map((_, i) => (i * 7919) % deliveries.length);
    const answers = await pool(order, 16, (i) =>
      handler(structuredClone(deliveries[i] as (typeof deliveries)[number]), aLocalLambdaContext()),
    );
    const outcomes = answers.map((a) => a.outcome);
    // A failure's append counts it (one copy recorded); a success raises the register,
    // a max, so both copies answer recorded and the second changes nothing.
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(603);
    expect(await storeOf().readSuccessRegister(`fal#${model}`)).toBe(new Date(BUCKET + 24_000).toISOString());
    const { state } = await storeOf().load({ provider: 'fal', model });
    expect(state.status).toBe('closed');
  });

  it('given a healthy breaker with successes in its register, when 5 counted failures follow in a row, then it opens at the fifth', async () => {
    const model = `o${Date.now().toString(36)}`;
    const successes = Array.from({ length: 60 }, (_, i) =>
      attempt({ model, outcome: 'succeeded', errorClass: null }, i % 10),
    );
    await pool(successes, 8, (e) => handler(e, aLocalLambdaContext()));
    const answers = [];
    for (let s = 10; s < 15; s++) answers.push(await handler(attempt({ model }, s), aLocalLambdaContext()));
    expect(answers.slice(0, 4).map((a) => a.outcome === 'recorded' && a.transitions.length)).toEqual([
      0, 0, 0, 0,
    ]);
    expect(answers[4]).toMatchObject({
      outcome: 'recorded',
      transitions: [{ status: 'open', reason: 'consecutive_failures' }],
    });
    const { state } = await storeOf().load({ provider: 'fal', model });
    expect(state).toMatchObject({ status: 'open', version: 1 });
  });

  it('given 4 failures, a success and 4 failures, then the success (off the breaker item) breaks the run and the breaker stays closed', async () => {
    const model = `r${Date.now().toString(36)}`;
    const events = [
      ...[0, 1, 2, 3].map((s) => attempt({ model }, s)),
      attempt({ model, outcome: 'succeeded', errorClass: null }, 4),
      ...[5, 6, 7, 8].map((s) => attempt({ model }, s)),
    ];
    for (const event of events) await handler(event, aLocalLambdaContext());
    const { state } = await storeOf().load({ provider: 'fal', model });
    expect(state).toMatchObject({ status: 'closed', consecutiveFailures: 4 });
  });

  it('given 1,000 signals in batches of 50 with 10 % redelivered in other batches, when 6 ingesters run at once, then the closed windows equal the reference fold', async () => {
    const model = `b${Date.now().toString(36)}`;
    const distinct = Array.from({ length: 1000 }, (_, i) =>
      parsed(
        i % 40 === 7
          ? attempt({ model }, i % 30)
          : attempt({ model, outcome: 'succeeded', errorClass: null }, i % 30),
      ),
    );
    const stream = [...distinct, ...distinct.filter((_, i) => i % 10 === 0)];
    const batches = Array.from({ length: Math.ceil(stream.length / 50) }, (_, b) =>
      stream.slice(b * 50, b * 50 + 50),
    );
    const clock = { now: BUCKET };
    const { store, windows, counter } = portsOf(stack, clock);
    const results = await pool(batches, 6, (batch) =>
      ingestSignalBatch(batch, { store, windows: counter, retry: { maxAttempts: 40 } }),
    );
    expect(results.flatMap((r) => r.counted).every((c) => c === 'counted')).toBe(true);
    // Every window due: closed by a closer, then counted again by a second one (the same sums).
    clock.now = BUCKET + 3_600_000;
    const pair = { provider: 'fal', model };
    const { closed } = await closeDueWindows([pair], { windows, now: () => clock.now });
    const again = await closeDueWindows([pair], { windows, now: () => clock.now });
    const reference = foldWindows(distinct.map(factOf));
    expect(closed).toEqual(reference);
    expect(again.summaries.get(windowPairKey(pair))?.closed).toEqual(reference);
    expect(reference.reduce((sum, w) => sum + (w.counts.n ?? 0), 0)).toBe(1000);
  });

  it('given the same signals in two orders and batchings on two stacks, when their windows close, then the closed windows and the breaker transitions are identical', async () => {
    const other = await provisionLocalStack({ stage: uniqueStage() });
    const model = `y${Date.now().toString(36)}`;
    // 20 s of signals: in each 10-s window 6 of 10 attempts fail (the rate rule opens), never 5 in
    // a row in time order; the consecutive rule is set out of reach: this is the rate rule's replay.
    const pattern = ['f', 's', 'f', 'f', 's', 'f', 's', 'f', 's', 'f'];
    const distinct = Array.from({ length: 40 }, (_, i) =>
      parsed(
        pattern[i % 10] === 'f'
          ? attempt({ model, dispatchId: `${model}-${i}:v1` }, Math.floor(i / 2))
          : attempt(
              { model, dispatchId: `${model}-${i}:v1`, outcome: 'succeeded', errorClass: null },
              Math.floor(i / 2),
            ),
      ),
    );
    const config = { ...DEFAULT_BREAKER_CONFIG, consecutiveFailuresToOpen: 1_000 };
    const pair = { provider: 'fal', model };
    const run = async (target: LocalStack, batches: HealthSignal[][], stepwise: boolean) => {
      const clock = { now: BUCKET };
      const { store, windows, counter } = portsOf(target, clock);
      for (const batch of batches) await ingestSignalBatch(batch, { store, windows: counter, config });
      // Closed and judged window by window, or all at once: the rule folds the same windows.
      const ends = stepwise ? [closesAtOf(BUCKET), closesAtOf(BUCKET + WINDOW_MS)] : [BUCKET + 3_600_000];
      for (const end of ends) {
        clock.now = end;
        const { summaries, closed } = await closeDueWindows([pair], { windows, now: () => clock.now });
        const summary = summaries.get(windowPairKey(pair));
        if (summary) await judgeIn({ store, config }, [{ closed, summary }], () => undefined);
      }
      const log = new DynamoDbRoutingLog(documents, target.tables.routingLog);
      const records = await log.readStream(`health#fal#${model}`);
      const { state } = await store.load(pair);
      const summary = (await windows.readSummaries([pair])).get(windowPairKey(pair));
      return { records, status: state.status, closed: summary?.closed };
    };
    const forward = await run(
      stack,
      Array.from({ length: 8 }, (_, b) => distinct.slice(b * 5, b * 5 + 5)),
      true,
    );
    // Backwards, in batches of 13, a quarter of the signals delivered twice in other batches.
    const backward = [...distinct].reverse();
    const redelivered = [...backward, ...backward.filter((_, i) => i % 4 === 1)];
    const shuffled = Array.from({ length: Math.ceil(redelivered.length / 13) }, (_, b) =>
      redelivered.slice(b * 13, b * 13 + 13),
    );
    const replay = await run(other, shuffled, false);
    expect(forward.closed).toEqual(foldWindows(distinct.map(factOf)));
    expect(replay.closed).toEqual(forward.closed);
    expect(forward.records.length).toBeGreaterThan(0);
    expect(forward.records).toEqual(replay.records);
    expect(forward.status).toBe('open');
    expect(replay.status).toBe('open');
  });
});

describe('the consecutive rule in event time against DynamoDB Local (issue 21)', () => {
  /** Signals of one pair at these seconds after BUCKET: 'F' a server error, 'S' a success. */
  const signalsOf = (model: string, plan: readonly [number, 'F' | 'S'][]) =>
    plan.map(([s, kind], i) =>
      parsed(
        kind === 'F'
          ? attempt({ model, dispatchId: `${model}-${i}:v1` }, s)
          : attempt({ model, dispatchId: `${model}-${i}:v1`, outcome: 'succeeded', errorClass: null }, s),
      ),
    );
  const at = (signal: HealthSignal) => Date.parse(signal.command.at);

  it('given a run the fast path saw complete, broken by a success that arrived after it, and a later run of 5, when two stacks take them in two orders and batchings, then both record the same single opening, at the later run’s fifth failure', async () => {
    const other = await provisionLocalStack({ stage: uniqueStage() });
    const model = `c${Date.now().toString(36)}`;
    const pair = { provider: 'fal', model };
    // Event time: S F F F F S F F F | F F F — runs 4, 3+3: the 5th in a row is the failure at 12 s.
    const plan: [number, 'F' | 'S'][] = [
      [0, 'S'],
      [1, 'F'],
      [2, 'F'],
      [3, 'F'],
      [4, 'F'],
      [5, 'S'],
      [6, 'F'],
      [7, 'F'],
      [8, 'F'],
      [11, 'F'],
      [12, 'F'],
      [13, 'F'],
    ];
    const signals = signalsOf(model, plan);
    const lateSuccess = signals[5] as HealthSignal;

    /** One stack's ingestion: each batch taken at its clock time; the scheduled closer at the end. */
    const run = async (target: LocalStack, deliveries: readonly { at: number; batch: HealthSignal[] }[]) => {
      const clock = { now: BUCKET };
      const { store, windows, counter } = portsOf(target, clock);
      const seen: string[] = [];
      for (const { at: when, batch } of deliveries) {
        clock.now = when;
        const { health } = await ingestSignalBatch(batch, { store, windows: counter });
        for (const answer of health) {
          if (answer.outcome === 'recorded' && answer.provisional)
            seen.push(`provisional@${answer.provisional.at}`);
        }
      }
      clock.now = BUCKET + 60_000;
      await closeWindowsOnTime(
        [pair],
        { store, windows: { windows, now: () => clock.now }, sleep: async () => {} },
        {
          budgetMs: 0,
        },
      );
      const records = await new DynamoDbRoutingLog(documents, target.tables.routingLog).readStream(
        `health#fal#${model}`,
      );
      const summary = (await windows.readSummaries([pair])).get(windowPairKey(pair));
      return { records, seen, closed: summary?.closed, state: (await store.load(pair)).state };
    };

    // Live: one at a time, 100 ms after each event, the success at 5 s arriving 4 s late (after the
    // failures at 6–8 s: the fast path has seen 1, 2, 3, 4, 6 in a row and opened provisionally).
    const live = signals
      .filter((s) => s !== lateSuccess)
      .map((s) => ({ at: at(s) + 100, batch: [s] }))
      .concat([{ at: at(lateSuccess) + 4_000, batch: [lateSuccess] }])
      .sort((a, b) => a.at - b.at);
    const first = await run(stack, live);
    // Replay: backwards, in batches of 5, every third signal delivered twice, all at 9.9 s.
    const backwards = [...signals].reverse();
    const copies = [...backwards, ...backwards.filter((_, i) => i % 3 === 0)];
    const replay = await run(
      other,
      Array.from({ length: Math.ceil(copies.length / 5) }, (_, b) => ({
        at: BUCKET + 9_900,
        batch: copies.slice(b * 5, b * 5 + 5),
      })),
    );

    expect(first.seen).toEqual([`provisional@${new Date(BUCKET + 6_000).toISOString()}`]);
    expect(first.closed).toEqual(foldWindows(signals.map(factOf)));
    expect(replay.closed).toEqual(first.closed);
    expect(first.records).toEqual(replay.records);
    expect(
      first.records.map(
        (r) => (r.data as { transition: { at: string; causedBy: string; reason: string } }).transition,
      ),
    ).toEqual([
      expect.objectContaining({
        at: new Date(BUCKET + 12_000).toISOString(),
        causedBy: (signals[10] as HealthSignal).command.signalId,
        reason: 'consecutive_failures',
      }),
    ]);
    expect(first.state.provisional ?? null).toBeNull();
  });

  it('given 5 failures in a row and then no signal at all, when only the scheduled closer runs, then the transition is recorded as soon as the window is due: open latency = the 5 s grace and the 35 s settle, plus the close-and-judge time', async () => {
    const model = `l${Date.now().toString(36)}`;
    const pair = { provider: 'fal', model };
    const signals = signalsOf(model, [
      [1, 'F'],
      [2, 'F'],
      [3, 'F'],
      [4, 'F'],
      [5, 'F'],
    ]);
    const clock = { now: BUCKET + 5_100 };
    const { store, windows, counter } = portsOf(stack, clock);
    const { health } = await ingestSignalBatch(signals, { store, windows: counter });
    expect(health.at(-1)).toMatchObject({
      outcome: 'recorded',
      transitions: [],
      provisional: { version: 1 },
    });
    // Routers see it open now, before anything is recorded.
    expect(effectiveStatus((await store.load(pair)).state, new Date(clock.now).toISOString())).toBe('open');

    // The scheduled run starts at 5.2 s; its sleeps move the fake clock. The append's clock is taken.
    clock.now = BUCKET + 5_200;
    let recordedAt: number | null = null;
    let wallMs = 0;
    const timed: ProviderHealthStore = {
      load: (ref) => store.load(ref),
      readMany: (refs) => store.readMany(refs),
      readForSignals: (refs, keys) => store.readForSignals(refs, keys),
      raiseSuccessRegisters: (entries) => store.raiseSuccessRegisters(entries),
      readSuccessRegister: (key) => store.readSuccessRegister(key),
      appendToStream: async (stream, records, options) => {
        const started = performance.now();
        const result = await store.appendToStream(stream, records, options);
        wallMs = performance.now() - started;
        if (records.some((r) => r.type === 'ProviderHealthChanged')) recordedAt = clock.now;
        return result;
      },
    };
    const result = await closeWindowsOnTime(
      [pair],
      {
        store: timed,
        windows: { windows, now: () => clock.now },
        sleep: async (ms) => {
          clock.now += ms;
        },
      },
      { budgetMs: 50_000 },
    );
    const windowEnd = BUCKET + WINDOW_MS;
    expect(result.closed.map((w) => w.windowStartMs)).toEqual([BUCKET]);
    // Recorded on the due moment itself (end + grace + settle), without any later signal.
    expect(recordedAt).toBe(windowEnd + WINDOW_GRACE_MS + WINDOW_SETTLE_MS);
    expect(recordedAt).toBe(closesAtOf(BUCKET));
    const records = await new DynamoDbRoutingLog(documents, stack.tables.routingLog).readStream(
      `health#fal#${model}`,
    );
    expect(records.map((r) => (r.data as { transition: { at: string } }).transition.at)).toEqual([
      new Date(BUCKET + 5_000).toISOString(),
    ]);
    // The measured part of the latency (DynamoDB Local): reported, never asserted.
    process.stdout.write(
      `open latency: window end → recorded = ${WINDOW_GRACE_MS} ms grace + ${WINDOW_SETTLE_MS} ms settle + ${wallMs.toFixed(1)} ms append\n`,
    );
  });
});
