/**
 * Benchmark: provider signals at any rate and slot reservations, on DynamoDB Local (issue 21).
 *
 *   - ingestion: BENCH_SIGNALS attempt signals (two providers, 2 % counted failures, 5 % of them
 *     delivered twice, ~200 deliveries later, so a copy lands in another batch) through
 *     `ingestSignalBatch` in batches of BATCH (what a batched consumer does): the breakers and the
 *     signal windows, BATCHES_IN_FLIGHT at once. The windows' clock is held at the workload's start
 *     while ingesting (its windows open), then moved past them and every window closed. Then every
 *     count is read back: each closed window must equal the reference fold of the distinct signals
 *     (nothing lost, nothing counted twice: the `n` counters compared), each breaker's success
 *     register must hold its newest success, and no failure may be recorded twice.
 *   - one event per call: the same through `ingestSignalBatch` with one signal per call, as the
 *     HealthSignals function takes one EventBridge event per invocation, HANDLER_IN_FLIGHT at once.
 *   - slot reservations: take + release pairs on the sharded slot ledger of one provider
 *     (concurrency SLOT_CONCURRENCY, so ⌈C/16⌉ shards), SLOTS_IN_FLIGHT at once; the ledger must end
 *     empty and never hold more than C.
 *
 * Rates here are the emulator's (one Java process on a shared 2-core machine), not AWS's: the AWS
 * envelope is arithmetic from per-call costs and partition limits (bench/signals-envelope.ts).
 * Runs in its own process (run.ts passes the emulators' endpoints); result → BENCH_OUT.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbSignalWindows } from '../src/aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../src/aws/dynamodb-slot-ledger.ts';
import { ingestSignalBatch } from '../src/commands/handle-provider-signal.ts';
import type { RecordHealthSignalResult } from '../src/commands/record-health-signal.ts';
import { provisionLocalStack } from '../src/local/provision.ts';
import { windowPairKey } from '../src/ports/signal-windows.ts';
import { completedFact, foldWindows, sumCounts, WINDOW_MS } from '../src/provider-health/signal-windows.ts';
import { type HealthSignal, parseHealthSignal, type SignalEvent } from '../src/provider-health/signals.ts';
import { readProviderSlots, releaseSlot, takeSlot } from '../src/provider-health/slot-claims.ts';
import { shardCount } from '../src/provider-health/slot-shards.ts';
import { closeDueWindows, SignalWindowCounter } from '../src/provider-health/window-counting.ts';
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
 * Counted failures whose run outlasts their batch still commit on their breaker item, so concurrent
 * batches can contend for it; a contended signal goes back to its queue's retry in AWS. Here the command retries it
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
  /** Distinct signals missing from the closed windows, and counted beyond once per distinct signal. */
  readonly lost: number;
  readonly doubleCounted: number;
  /** Closed windows whose counters differ from the reference fold of the distinct signals (any counter). */
  readonly windowsOff: number;
  /** Breakers whose success register is not their newest success's event time. */
  readonly registersOff: number;
  readonly failuresRecordedTwice: number;
  /** DynamoDB write requests per delivered signal (PutItem, UpdateItem, TransactWriteItems, BatchWriteItem). */
  readonly writesPerSignal: number;
  /** Every DynamoDB request per delivered signal (reads too), and per command name. */
  readonly requestsPerSignal?: number;
  readonly requestsByCommand?: Readonly<Record<string, number>>;
  /** Requests DynamoDB refused (by command): transaction cancellations and failed conditions. */
  readonly refusedByCommand?: Readonly<Record<string, number>>;
  /** Request bytes (the JSON bodies) per delivered signal. */
  readonly requestBytesPerSignal?: number;
  /** This process's CPU (user + system, ms) per delivered signal: parsing, our code, the SDK, the harness. */
  readonly cpuMsPerSignal?: number;
  /** DynamoDB Local's CPU (its Java process, user + system, ms) per delivered signal; absent when not found. */
  readonly emulatorCpuMsPerSignal?: number;
  /** The machine's 1-minute load average when the run started and when it ended. */
  readonly loadAverageAtStart?: number;
  readonly loadAverageAtEnd?: number;
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
   * BatchWriteItem of 25, 8 in flight, and single PutItem calls/s, 8 in flight (DynamoDB Local's
   * limit is requests, not items or bytes: a 15 KB PutItem costs it what a 100-byte one does).
   */
  readonly emulatorPlainWritesPerSecond: number;
  readonly emulatorPutItemCallsPerSecond: number;
  /** The machine's 1-minute load average when the ingestion runs started (a shared machine). */
  readonly loadAverage: number;
  readonly batch: IngestionRun;
  readonly oneByOne: IngestionRun;
  readonly slots: SlotRun;
}

/** A recent bucket: markers and tally items expire (TTL) after their event time. */
const BASE = Math.floor(Date.now() / 30_000) * 30_000 - 120_000;

interface Delivery {
  /** The event as a consumer receives it (parsed in the timed path, as the function does). */
  readonly event: SignalEvent;
  /** The same, parsed once up front: what the checks compare against. */
  readonly signal: HealthSignal;
  readonly distinct: number;
  readonly copy: boolean;
}

/** Distinct signals of fal (70 %) and replicate, every FAILURE_EVERY-th a counted failure, over 60 s. */
function workload(run: string, count: number): Delivery[] {
  const distinct: { event: SignalEvent; signal: HealthSignal }[] = [];
  for (let i = 0; i < count; i++) {
    // Providers of their own per run: each run's counts are checked against its own tally.
    const provider = i % 10 < 7 ? `fal-${run}` : `replicate-${run}`;
    const failed = i % FAILURE_EVERY === FAILURE_EVERY - 1;
    const time = new Date(BASE + Math.floor((i / count) * 60_000)).toISOString();
    const jobId = `${run}-job-${i}`;
    const event: SignalEvent = {
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
    };
    distinct.push({ event, signal: parsedOf(event) });
  }
  // Every DUPLICATE_EVERY-th signal is delivered again ~200 deliveries later (an EventBridge retry).
  const deliveries: Delivery[] = [];
  const copies: { at: number; delivery: Delivery }[] = [];
  distinct.forEach(({ event, signal }, i) => {
    deliveries.push({ event, signal, distinct: i, copy: false });
    if (i % DUPLICATE_EVERY === 0)
      copies.push({
        at: i + 200,
        delivery: { event: structuredClone(event), signal, distinct: i, copy: true },
      });
    while (copies[0] && copies[0].at <= i)
      deliveries.push((copies.shift() as (typeof copies)[number]).delivery);
  });
  for (const { delivery } of copies) deliveries.push(delivery);
  return deliveries;
}

const parsedOf = (event: SignalEvent): HealthSignal => {
  const parsed = parseHealthSignal(event);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.signal;
};

/**
 * What the document client sent, counted by a middleware: requests by command (`BatchGetItem`,
 * `PutItem`, …), the request bytes (JSON bodies) and the requests DynamoDB refused (a transaction
 * cancelled: a breaker commit's conflict or a redelivered failure's marker; a condition failed: a
 * register already as new).
 */
const sent = { byCommand: new Map<string, number>(), bytes: 0, refused: new Map<string, number>() };
const WRITE_COMMAND = /^(Put|Update|TransactWrite|BatchWrite)/;
const countOf = (byCommand: ReadonlyMap<string, number>, test: (command: string) => boolean) =>
  [...byCommand].filter(([command]) => test(command)).reduce((sum, [, n]) => sum + n, 0);

interface Ports {
  readonly store: DynamoDbProviderHealthStore;
  readonly windows: DynamoDbSignalWindows;
}

async function verify(
  ports: Ports,
  deliveries: readonly Delivery[],
  answers: readonly RecordHealthSignalResult[],
): Promise<
  Pick<IngestionRun, 'lost' | 'doubleCounted' | 'windowsOff' | 'registersOff' | 'failuresRecordedTwice'>
> {
  // The reference: every distinct signal once, folded (src/provider-health/signal-windows.ts).
  const facts = deliveries.map(({ signal }) => factOf(signal));
  const expected = foldWindows(facts);
  const pairs = [...new Map(facts.map((f) => [windowPairKey(f.pair), f.pair])).values()];
  // Every window is due an hour after the workload: closing them all now is what any closer does.
  await closeDueWindows(pairs, { windows: ports.windows, now: () => BASE + 3_600_000 });
  let lost = 0;
  let doubleCounted = 0;
  let windowsOff = 0;
  for (const want of expected) {
    const got = await ports.windows.readClosed(want.pair, want.windowStartMs);
    const counted = got?.counts.n ?? 0;
    lost += Math.max(0, (want.counts.n ?? 0) - counted);
    doubleCounted += Math.max(0, counted - (want.counts.n ?? 0));
    // Both sides in name order (sumCounts): DynamoDB returns a map's attributes in any order.
    if (JSON.stringify(sumCounts([got?.counts ?? {}])) !== JSON.stringify(sumCounts([want.counts])))
      windowsOff++;
  }
  // Each breaker's success register: its newest success's event time.
  const newest = new Map<string, string>();
  for (const { signal } of deliveries) {
    if (signal.command.type !== 'RecordAttempt' || signal.command.outcome !== 'succeeded') continue;
    const held = newest.get(signal.key);
    if (held === undefined || signal.command.at > held) newest.set(signal.key, signal.command.at);
  }
  let registersOff = 0;
  for (const [key, at] of newest) if ((await ports.store.readSuccessRegister(key)) !== at) registersOff++;
  // A failure's commit carries its dedupe marker: of its copies, at most one may be `recorded`.
  const recorded = new Map<number, number>();
  deliveries.forEach(({ signal, distinct }, i) => {
    const failed = signal.command.type === 'RecordAttempt' && signal.command.outcome !== 'succeeded';
    if (failed && answers[i]?.outcome === 'recorded')
      recorded.set(distinct, (recorded.get(distinct) ?? 0) + 1);
  });
  const failuresRecordedTwice = [...recorded.values()].filter((count) => count > 1).length;
  return { lost, doubleCounted, windowsOff, registersOff, failuresRecordedTwice };
}

const factOf = (signal: HealthSignal) => {
  const { attempt, command } = signal;
  if (!attempt || command.type !== 'RecordAttempt') throw new Error('an attempt signal expected');
  return completedFact({
    key: command.signalId,
    atMs: Date.parse(command.at),
    provider: attempt.provider,
    model: signal.model,
    outcome: attempt.outcome,
    errorClass: attempt.errorClass ?? null,
  });
};

/** The DynamoDB Local process this run talks to (found by its port in /proc; undefined elsewhere). */
function emulatorPid(): number | undefined {
  const port = URL.parse(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '')?.port;
  if (!port || !existsSync('/proc')) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.endsWith('DynamoDBLocal.jar')) && args[args.indexOf('-port') + 1] === port)
        return Number(entry);
    } catch {
      // The process ended while the list was read.
    }
  }
  return undefined;
}

/** CPU ms a process has used so far (utime + stime of /proc/<pid>/stat, 100 ticks a second). */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * BENCH_SIGNALS_PROFILE=<dir>: a V8 CPU profile of each ingestion run alone (`<dir>/<path>.cpuprofile`,
 * open it in Chrome's DevTools), to see where this process's time goes.
 */
async function startProfile(path: IngestionRun['path']) {
  const dir = process.env.BENCH_SIGNALS_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${path.replaceAll(' ', '-')}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function ingest(
  ports: Ports,
  path: IngestionRun['path'],
  deliveries: readonly Delivery[],
): Promise<IngestionRun> {
  // The windows' clock stays at the workload's start while ingesting: its windows are open.
  const counter = new SignalWindowCounter({ windows: ports.windows, now: () => BASE });
  const deps = { store: ports.store, windows: counter, retry: RETRY };
  const size = path === 'batch' ? BATCH : 1;
  const inFlight = path === 'batch' ? BATCHES_IN_FLIGHT : HANDLER_IN_FLIGHT;
  const batches = Array.from({ length: Math.ceil(deliveries.length / size) }, (_, b) =>
    deliveries.slice(b * size, (b + 1) * size).map((d) => d.event),
  );
  const before = { byCommand: new Map(sent.byCommand), bytes: sent.bytes, refused: new Map(sent.refused) };
  const loadAverageAtStart = round(loadavg()[0] ?? 0, 2);
  const emulator = emulatorPid();
  const emulatorCpuBefore = processCpuMs(emulator);
  const cpuBefore = process.cpuUsage();
  const profiler = await startProfile(path);
  const started = performance.now();
  // Each batch as the function takes it: its events parsed, then ingested as one batch.
  const answers = (
    await mapConcurrently(batches, inFlight, async (events) => {
      const batch = events.map(parsedOf);
      return (await ingestSignalBatch(batch, deps)).health;
    })
  ).flat();
  const seconds = (performance.now() - started) / 1000;
  await profiler?.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const emulatorCpuAfter = processCpuMs(emulator);
  const loadAverageAtEnd = round(loadavg()[0] ?? 0, 2);
  const delta = (now: ReadonlyMap<string, number>, then: ReadonlyMap<string, number>) =>
    Object.fromEntries(
      [...now]
        .map(([command, n]) => [command, n - (then.get(command) ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  const requestsByCommand = delta(sent.byCommand, before.byCommand);
  const requests = new Map(Object.entries(requestsByCommand));
  const perSignal = (n: number, digits = 3) => round(n / deliveries.length, digits);
  const writesPerSignal = perSignal(countOf(requests, (c) => WRITE_COMMAND.test(c)));
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
    batchSize: size,
    writesPerSignal,
    requestsPerSignal: perSignal(countOf(requests, () => true)),
    requestsByCommand,
    refusedByCommand: delta(sent.refused, before.refused),
    requestBytesPerSignal: perSignal(sent.bytes - before.bytes, 0),
    cpuMsPerSignal: perSignal((cpu.user + cpu.system) / 1000),
    ...(emulatorCpuBefore !== undefined && emulatorCpuAfter !== undefined
      ? { emulatorCpuMsPerSignal: perSignal(emulatorCpuAfter - emulatorCpuBefore) }
      : {}),
    loadAverageAtStart,
    loadAverageAtEnd,
    ...(await verify(ports, deliveries, answers)),
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

/** The emulator's ceiling for single requests: PutItem calls/s of a ~6 KB item, 8 in flight. */
async function putItemCalls(
  documents: ReturnType<typeof createDocumentClient>,
  table: string,
): Promise<number> {
  const calls = 1_000;
  const body = 'x'.repeat(6_000);
  const started = performance.now();
  await mapConcurrently(
    Array.from({ length: calls }, (_, i) => i),
    8,
    (i) =>
      documents.send(
        new PutCommand({
          TableName: table,
          Item: { pk: `calibration#put#${i}`, body, expiresAt: Math.floor(BASE / 1000) },
        }),
      ),
  );
  return Math.round(calls / ((performance.now() - started) / 1000));
}

export async function runSignals(): Promise<SignalsResult> {
  const stack = await provisionLocalStack({ stage: `sig${Date.now().toString(36)}` });
  const documents = createDocumentClient();
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      sent.byCommand.set(command, (sent.byCommand.get(command) ?? 0) + 1);
      try {
        return await next(args);
      } catch (error) {
        sent.refused.set(command, (sent.refused.get(command) ?? 0) + 1);
        throw error;
      }
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  documents.middlewareStack.add(
    (next) => (args) => {
      const body = (args.request as { body?: unknown }).body;
      if (typeof body === 'string') sent.bytes += Buffer.byteLength(body);
      else if (body instanceof Uint8Array) sent.bytes += body.byteLength;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'benchRequestBytes' },
  );
  const ports: Ports = {
    store: new DynamoDbProviderHealthStore(documents, {
      health: stack.tables.providerHealth,
      log: stack.tables.routingLog,
    }),
    windows: new DynamoDbSignalWindows(documents, stack.tables.providerHealth, { windowMs: WINDOW_MS }),
  };
  try {
    progress('signals: the emulator’s plain-write ceiling (BatchWriteItem of 25; PutItem calls)');
    const emulatorPlainWritesPerSecond = await plainWrites(documents, stack.tables.providerHealth);
    const emulatorPutItemCallsPerSecond = await putItemCalls(documents, stack.tables.providerHealth);
    const loadAverage = round(loadavg()[0] ?? 0, 2);
    progress(`signals: ${SIGNALS} in batches of ${BATCH}, ${BATCHES_IN_FLIGHT} in flight`);
    const batch = await ingest(ports, 'batch', workload('b', SIGNALS));
    progress(`signals: ${HANDLER_SIGNALS} one event per call, ${HANDLER_IN_FLIGHT} in flight`);
    const oneByOne = await ingest(ports, 'one event per call', workload('h', HANDLER_SIGNALS));
    progress(`slots: ${SLOT_PAIRS} take + release pairs, ${SLOTS_IN_FLIGHT} in flight`);
    const slots = await reserve(new DynamoDbSlotLedger(documents, stack.tables.providerHealth));
    return {
      emulatorPlainWritesPerSecond,
      emulatorPutItemCallsPerSecond,
      loadAverage,
      batch,
      oneByOne,
      slots,
    };
  } finally {
    documents.destroy();
  }
}

if (import.meta.main) {
  writeResult(await runSignals());
  // Keep-alive sockets of the SDK clients would hold the process open.
  process.exit(0);
}
