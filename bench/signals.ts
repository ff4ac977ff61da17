/**
 * Benchmark: provider signals at any rate and slot reservations, on DynamoDB Local (issue 21).
 *
 *   - ingestion: BENCH_SIGNALS attempt signals (two providers, 2 % counted failures, 5 % of them
 *     delivered twice) through `recordHealthSignals` in batches of BATCH (what a batched consumer
 *     does), BATCHES_IN_FLIGHT at once. Then every count is read back: the success tally of each
 *     breaker must equal its distinct successes (nothing lost, nothing counted twice), every
 *     redelivered copy must be answered `duplicate`, and no failure may be recorded twice.
 *   - one event per call: the same through `recordHealthSignal`, as the HealthSignals function takes
 *     one EventBridge event per invocation (one transaction per success), HANDLER_IN_FLIGHT at once.
 *   - slot reservations: take + release pairs on the sharded slot ledger of one provider
 *     (concurrency SLOT_CONCURRENCY, so ⌈C/16⌉ shards), SLOTS_IN_FLIGHT at once; the ledger must end
 *     empty and never hold more than C.
 *
 * Rates here are the emulator's (one Java process on a shared 2-core machine), not AWS's: the AWS
 * envelope is arithmetic from per-call costs and partition limits (bench/signals-envelope.ts).
 * Runs in its own process (run.ts passes the emulators' endpoints); result → BENCH_OUT.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbSlotLedger } from '../src/aws/dynamodb-slot-ledger.ts';
import {
  type RecordHealthSignalResult,
  recordHealthSignal,
  recordHealthSignals,
} from '../src/commands/record-health-signal.ts';
import { provisionLocalStack } from '../src/local/provision.ts';
import { bucketStartOf, DEFAULT_BREAKER_CONFIG } from '../src/provider-health/breaker.ts';
import { type HealthSignal, parseHealthSignal } from '../src/provider-health/signals.ts';
import { readProviderSlots, releaseSlot, takeSlot } from '../src/provider-health/slot-claims.ts';
import { shardCount } from '../src/provider-health/slot-shards.ts';
import { mapConcurrently, progress, round, writeResult } from './support/stats.ts';

const SIGNALS = Number(process.env.BENCH_SIGNALS ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 99);
const BATCHES_IN_FLIGHT = Number(process.env.BENCH_BATCHES_IN_FLIGHT ?? 8);
const HANDLER_SIGNALS = Number(process.env.BENCH_HANDLER_SIGNALS ?? 2_000);
const HANDLER_IN_FLIGHT = 16;
const SLOT_PAIRS = Number(process.env.BENCH_SLOT_PAIRS ?? 3_000);
const SLOT_CONCURRENCY = 1_024;
const SLOTS_IN_FLIGHT = 16;
const FAILURE_EVERY = Number(process.env.BENCH_FAILURE_EVERY ?? 50);
/**
 * Counted failures still commit on their breaker item, so concurrent batches contend for it; a
 * contended signal goes back to its queue or EventBridge's retry in AWS. Here the command retries it
 * up to this many times instead (with its backoff), so the run measures ingestion, not give-ups.
 */
const RETRY = { maxAttempts: 40 } as const;
const DUPLICATE_EVERY = 20;

export interface IngestionRun {
  readonly path: 'batch' | 'one event per call';
  /** Deliveries sent (redelivered copies included) and distinct signals among them. */
  readonly delivered: number;
  readonly distinct: number;
  readonly redelivered: number;
  readonly failures: number;
  readonly seconds: number;
  /** Deliveries per second (every copy is ingested: a duplicate costs its marker's check). */
  readonly signalsPerSecond: number;
  readonly inFlight: number;
  readonly batchSize: number;
  /** Distinct successes missing from the tally, and tallied beyond one per distinct success. */
  readonly lost: number;
  readonly doubleCounted: number;
  /** Redelivered copies not answered `duplicate` (or `unchanged` for a failure on an open breaker). */
  readonly duplicatesMissed: number;
  readonly failuresRecordedTwice: number;
}

export interface SlotRun {
  readonly pairs: number;
  readonly concurrency: number;
  readonly shards: number;
  readonly inFlight: number;
  readonly seconds: number;
  readonly reservationsPerSecond: number;
  readonly full: number;
  readonly leftInFlight: number;
}

export interface SignalsResult {
  /**
   * The emulator's own ceiling in this run: plain (unconditional, untransacted) items/s written by
   * BatchWriteItem of 25, 8 in flight. Exactly-once ingestion needs at least one write per signal
   * (its marker), so no design ingests faster than this on the same emulator.
   */
  readonly emulatorPlainWritesPerSecond: number;
  readonly batch: IngestionRun;
  readonly oneByOne: IngestionRun;
  readonly slots: SlotRun;
}

/** A recent bucket: markers and tally items expire (TTL) after their event time. */
const BASE = Math.floor(Date.now() / 30_000) * 30_000 - 120_000;

interface Delivery {
  readonly signal: HealthSignal;
  readonly distinct: number;
  readonly copy: boolean;
}

/** Distinct signals of fal (70 %) and replicate, every FAILURE_EVERY-th a counted failure, over 60 s. */
function workload(run: string, count: number): Delivery[] {
  const distinct: HealthSignal[] = [];
  for (let i = 0; i < count; i++) {
    // Providers of their own per run: each run's counts are checked against its own tally.
    const provider = i % 10 < 7 ? `fal-${run}` : `replicate-${run}`;
    const failed = i % FAILURE_EVERY === FAILURE_EVERY - 1;
    const time = new Date(BASE + Math.floor((i / count) * 60_000)).toISOString();
    const jobId = `${run}-job-${i}`;
    const parsed = parseHealthSignal({
      id: `${run}-evt-${i}`,
      'detail-type': 'provider.attempt.completed',
      time,
      detail: {
        jobId,
        provider,
        model: null,
        dispatchId: `${jobId}:v1`,
        outcome: failed ? 'failed_terminal' : 'succeeded',
        errorClass: failed ? 'server_error' : null,
        ts: time,
      },
    });
    if (!parsed.ok) throw new Error(parsed.problem);
    distinct.push(parsed.signal);
  }
  // Every DUPLICATE_EVERY-th signal is delivered again ~200 deliveries later (an EventBridge retry).
  const deliveries: Delivery[] = [];
  const copies: { at: number; delivery: Delivery }[] = [];
  distinct.forEach((signal, i) => {
    deliveries.push({ signal, distinct: i, copy: false });
    if (i % DUPLICATE_EVERY === 0)
      copies.push({ at: i + 200, delivery: { signal, distinct: i, copy: true } });
    while (copies[0] && copies[0].at <= i)
      deliveries.push((copies.shift() as (typeof copies)[number]).delivery);
  });
  for (const { delivery } of copies) deliveries.push(delivery);
  return deliveries;
}

async function verify(
  store: DynamoDbProviderHealthStore,
  deliveries: readonly Delivery[],
  answers: readonly RecordHealthSignalResult[],
): Promise<Pick<IngestionRun, 'lost' | 'doubleCounted' | 'duplicatesMissed' | 'failuresRecordedTwice'>> {
  const expected = new Map<string, Map<number, number>>();
  const seen = new Set<number>();
  for (const { signal, distinct } of deliveries) {
    if (signal.command.type !== 'RecordAttempt' || signal.command.outcome !== 'succeeded') continue;
    if (seen.has(distinct)) continue;
    seen.add(distinct);
    const bucket = bucketStartOf(signal.command.at, DEFAULT_BREAKER_CONFIG);
    const byBucket = expected.get(signal.key) ?? new Map<number, number>();
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + 1);
    expected.set(signal.key, byBucket);
  }
  let lost = 0;
  let doubleCounted = 0;
  for (const [key, byBucket] of expected) {
    for (const { start, successes } of await store.readTally(key, [...byBucket.keys()])) {
      const want = byBucket.get(start) ?? 0;
      lost += Math.max(0, want - successes);
      doubleCounted += Math.max(0, successes - want);
    }
  }
  // Either copy may be processed first (batches run concurrently): of the two, exactly one may be
  // `recorded`; a failure may also meet an open breaker (`unchanged`, nothing written).
  const recorded = new Map<number, { count: number; failed: boolean }>();
  deliveries.forEach(({ signal, distinct }, i) => {
    const failed = signal.command.type === 'RecordAttempt' && signal.command.outcome !== 'succeeded';
    const seen = recorded.get(distinct) ?? { count: 0, failed };
    recorded.set(distinct, { failed, count: seen.count + (answers[i]?.outcome === 'recorded' ? 1 : 0) });
  });
  const twice = [...recorded.values()].filter((r) => r.count > 1);
  const duplicatesMissed = twice.filter((r) => !r.failed).length;
  const failuresRecordedTwice = twice.filter((r) => r.failed).length;
  return { lost, doubleCounted, duplicatesMissed, failuresRecordedTwice };
}

async function ingest(
  store: DynamoDbProviderHealthStore,
  path: IngestionRun['path'],
  deliveries: readonly Delivery[],
): Promise<IngestionRun> {
  const started = performance.now();
  let answers: RecordHealthSignalResult[];
  let inFlight: number;
  let batchSize: number;
  if (path === 'batch') {
    const batches = Array.from({ length: Math.ceil(deliveries.length / BATCH) }, (_, b) =>
      deliveries.slice(b * BATCH, (b + 1) * BATCH).map((d) => d.signal),
    );
    answers = (
      await mapConcurrently(batches, BATCHES_IN_FLIGHT, (batch) =>
        recordHealthSignals(batch, { store, retry: RETRY }),
      )
    ).flat();
    inFlight = BATCHES_IN_FLIGHT;
    batchSize = BATCH;
  } else {
    answers = await mapConcurrently(deliveries, HANDLER_IN_FLIGHT, (d) =>
      recordHealthSignal(d.signal, { store, retry: RETRY }),
    );
    inFlight = HANDLER_IN_FLIGHT;
    batchSize = 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const distinct = new Set(deliveries.map((d) => d.distinct)).size;
  return {
    path,
    delivered: deliveries.length,
    distinct,
    redelivered: deliveries.filter((d) => d.copy).length,
    failures: deliveries.filter(
      (d) => !d.copy && d.signal.command.type === 'RecordAttempt' && d.signal.command.outcome !== 'succeeded',
    ).length,
    seconds: round(seconds, 2),
    signalsPerSecond: Math.round(deliveries.length / seconds),
    inFlight,
    batchSize,
    ...(await verify(store, deliveries, answers)),
  };
}

async function reserve(ledger: DynamoDbSlotLedger): Promise<SlotRun> {
  const provider = `bench-${Date.now().toString(36)}`;
  const concurrency = SLOT_CONCURRENCY;
  const claims = Array.from({ length: SLOT_PAIRS }, (_, i) => `${provider}-job-${i}:v1`);
  let full = 0;
  const started = performance.now();
  await mapConcurrently(claims, SLOTS_IN_FLIGHT, async (dispatchId) => {
    const taken = await takeSlot(ledger, {
      provider,
      concurrency,
      dispatchId,
      atMs: BASE,
      timeoutMs: 900_000,
    });
    if (taken.outcome === 'full') {
      full++;
      return;
    }
    await releaseSlot(ledger, { provider, concurrency, dispatchId });
  });
  const seconds = (performance.now() - started) / 1000;
  const [left] = await readProviderSlots(ledger, [{ provider, concurrency }], BASE);
  return {
    pairs: SLOT_PAIRS,
    concurrency,
    shards: shardCount(concurrency),
    inFlight: SLOTS_IN_FLIGHT,
    seconds: round(seconds, 2),
    reservationsPerSecond: Math.round(SLOT_PAIRS / seconds),
    full,
    leftInFlight: left?.inFlight ?? 0,
  };
}

async function plainWrites(
  documents: ReturnType<typeof createDocumentClient>,
  table: string,
): Promise<number> {
  const items = 4_000;
  const started = performance.now();
  const pages = Array.from({ length: items / 25 }, (_, p) => p);
  await mapConcurrently(pages, 8, (page) =>
    documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: Array.from({ length: 25 }, (_, i) => ({
            PutRequest: { Item: { pk: `calibration#${page}#${i}`, expiresAt: Math.floor(BASE / 1000) } },
          })),
        },
      }),
    ),
  );
  return Math.round(items / ((performance.now() - started) / 1000));
}

export async function runSignals(): Promise<SignalsResult> {
  const stack = await provisionLocalStack({ stage: `sig${Date.now().toString(36)}` });
  const documents = createDocumentClient();
  const store = new DynamoDbProviderHealthStore(documents, {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });
  try {
    progress('signals: the emulator’s plain-write ceiling (BatchWriteItem of 25)');
    const emulatorPlainWritesPerSecond = await plainWrites(documents, stack.tables.providerHealth);
    progress(`signals: ${SIGNALS} in batches of ${BATCH}, ${BATCHES_IN_FLIGHT} in flight`);
    const batch = await ingest(store, 'batch', workload('b', SIGNALS));
    progress(`signals: ${HANDLER_SIGNALS} one event per call, ${HANDLER_IN_FLIGHT} in flight`);
    const oneByOne = await ingest(store, 'one event per call', workload('h', HANDLER_SIGNALS));
    progress(`slots: ${SLOT_PAIRS} take + release pairs, ${SLOTS_IN_FLIGHT} in flight`);
    const slots = await reserve(new DynamoDbSlotLedger(documents, stack.tables.providerHealth));
    return { emulatorPlainWritesPerSecond, batch, oneByOne, slots };
  } finally {
    documents.destroy();
  }
}

if (import.meta.main) {
  writeResult(await runSignals());
  // Keep-alive sockets of the SDK clients would hold the process open.
  process.exit(0);
}
