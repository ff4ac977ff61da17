/**
 * Benchmark: holds on DynamoDB Local (issue 21: "when every candidate is full, the job is held").
 *
 * BENCH_HOLD_JOBS `auto` jobs arrive at once (ROUTERS routers in flight, each its own adapters) against
 * fal and Replicate with concurrency C each: 2·C are routed, the rest held (a RoutingDeferred, both
 * waiting lines, a recheck). Then provider completions free slots one at a time in virtual time —
 * each dispatched job runs RUN_SEC ± 20 % (seeded) — and the hold backlog is delivered as SQS would:
 * a `slot_freed` at once, a `recheck` once its delay has passed in virtual time, each handled by the
 * Holds function's command (handleHoldMessage) with its own adapters. The run ends when every job is
 * dispatched or rejected.
 *
 * Measured: held count; hold time p50/p95 (each decision's `afterHold.heldMs`, virtual time, so it
 * is the wait the slots impose, not the emulator's speed); over-dispatch (the most jobs in flight at
 * once per provider, counted from the log's own records, minus C: must be 0); DynamoDB writes and
 * all AWS calls per job — routed at once vs held, from its submission to the decision that ends its
 * hold — so the extra writes a hold costs; and held jobs decided per wall second on the emulator.
 * The AWS envelope of hold throughput per provider is arithmetic (holdsEnvelope below).
 *
 * Runs in its own process (run.ts passes the emulators' endpoints); result → BENCH_OUT.
 */
import { createDocumentClient } from '../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../src/aws/dynamodb-routing-log.ts';
import { DynamoDbSlotLedger } from '../src/aws/dynamodb-slot-ledger.ts';
import type { HeldJobDependencies, HoldEnding } from '../src/commands/hold-job.ts';
import { endingOutcome } from '../src/commands/hold-job.ts';
import { releaseCompletedSlot } from '../src/commands/release-slot.ts';
import { type RoutingRecord, routeJob } from '../src/commands/route-job.ts';
import { loadRouterConfig } from '../src/config/router-config.ts';
import { handleHoldMessage } from '../src/handlers/holds.ts';
import { routerDependencies } from '../src/handlers/router.ts';
import { handlerEnvironment } from '../src/local/provision.ts';
import { backlogDelaySec, type HoldBacklog, type HoldMessage } from '../src/ports/hold-backlog.ts';
import { defaultRoutingTable } from '../src/routing/default-table.ts';
import { loadRoutingTable, type RoutingTable } from '../src/routing/routing-table.ts';
import { fixedRules } from '../src/rules/active-rules.ts';
import { AwsCallMeter, installAwsCallMeter, type MeterSnapshot } from './support/aws-call-meter.ts';
import { provisionBenchStack } from './support/bench-stack.ts';
import { LogCapture, mapConcurrently, percentile, progress, round, writeResult } from './support/stats.ts';
import { seededRandom } from './support/workload.ts';

export const HOLD_JOBS = Number(process.env.BENCH_HOLD_JOBS ?? 120);
export const HOLD_CONCURRENCY = Number(process.env.BENCH_HOLD_CONCURRENCY ?? 8);
const ROUTERS = 8;
const RUN_SEC = 60;
const SEED = 21;
const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const PROVIDERS = ['fal', 'replicate'] as const;

export interface PathCost {
  readonly jobs: number;
  /** DynamoDB writes (PutItem, UpdateItem, DeleteItem, TransactWriteItems; refused conditions included: they are billed). */
  readonly writesPerJob: number;
  readonly callsPerJob: number;
  readonly sqsSendsPerJob: number;
}

export interface HoldsResult {
  readonly jobs: number;
  /** Routers deciding the arrivals at once, each its own adapters. */
  readonly routers: number;
  readonly concurrency: number;
  readonly runSec: number;
  readonly routedAtOnce: number;
  readonly held: number;
  /** Held jobs rejected (their line full, or their maximum hold): 0 when the lines suffice. */
  readonly rejected: number;
  readonly decidedAfterHold: number;
  readonly holdP50Sec: number;
  readonly holdP95Sec: number;
  readonly holdMaxSec: number;
  /** Most jobs in flight at once per provider (from the log's records) and the excess over C. */
  readonly maxInFlight: Readonly<Record<string, number>>;
  readonly overDispatch: number;
  readonly routed: PathCost;
  readonly heldPath: PathCost;
  readonly extraWritesPerHeldJob: number;
  readonly backlogMessages: { readonly slotFreed: number; readonly recheck: number };
  /** What handling one message costs: a `recheck` (the bounded wait) and a `slot_freed` drain. */
  readonly perRecheck: { readonly writes: number; readonly calls: number };
  readonly perSlotFreed: { readonly writes: number; readonly calls: number };
  /** Held jobs decided per wall-clock second on DynamoDB Local (the holds phase, one handler at a time). */
  readonly decidedPerWallSecond: number;
  /** Wall seconds of the holds phase (every backlog message handled, one at a time). */
  readonly holdsWallSeconds: number;
  /** Average waiting-line length a held job found (its items' size sets the WCU of each line write). */
  readonly averageLineAtJoin: number;
}

/** The seed table with both providers limited to `concurrency` (the auto rule holds, the default). */
export function holdsBenchTable(concurrency: number): RoutingTable {
  const table = structuredClone(defaultRoutingTable) as unknown as {
    providers: Record<string, Record<string, unknown>>;
  };
  for (const provider of PROVIDERS) Object.assign(table.providers[provider] ?? {}, { concurrency });
  return loadRoutingTable({ ...table, version: 'bench-holds' });
}

/** The hold backlog as SQS delivers it, in virtual time: a message is visible once its delay passed. */
class VirtualBacklog implements HoldBacklog {
  readonly queue: { message: HoldMessage; visibleAt: number; order: number }[] = [];
  readonly counts = { slotFreed: 0, recheck: 0 };
  #order = 0;
  readonly #clock: { now: number };
  constructor(clock: { now: number }) {
    this.#clock = clock;
  }
  async send(message: HoldMessage, delaySec: number): Promise<void> {
    if (message.kind === 'slot_freed') this.counts.slotFreed++;
    else this.counts.recheck++;
    this.queue.push({
      message,
      visibleAt: this.#clock.now + backlogDelaySec(delaySec) * 1000,
      order: this.#order++,
    });
  }
  /** The next visible message, oldest first (null: none visible now). */
  next(): HoldMessage | null {
    this.queue.sort((a, b) => a.visibleAt - b.visibleAt || a.order - b.order);
    const head = this.queue[0];
    if (!head || head.visibleAt > this.#clock.now) return null;
    this.queue.shift();
    return head.message;
  }
  nextVisibleAt(): number | undefined {
    return this.queue.reduce<number | undefined>(
      (min, m) => (min === undefined ? m.visibleAt : Math.min(min, m.visibleAt)),
      undefined,
    );
  }
}

const WRITE_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem'];
const writesOf = (s: MeterSnapshot) =>
  Object.entries(s.calls)
    .filter(
      ([key]) => key.startsWith('DynamoDB.') && WRITE_OPERATIONS.includes(key.slice('DynamoDB.'.length)),
    )
    .reduce((sum, [, calls]) => sum + calls, 0);
const sendsOf = (s: MeterSnapshot) => s.calls['SQS.SendMessage'] ?? 0;

interface Tally {
  writes: number;
  calls: number;
  sends: number;
}
const add = (tally: Tally, s: MeterSnapshot) => {
  tally.writes += writesOf(s);
  tally.calls += s.totalCalls;
  tally.sends += sendsOf(s);
};

export async function runHolds(): Promise<HoldsResult> {
  const stack = await provisionBenchStack(`bh${Date.now().toString(36).slice(-8)}`);
  installAwsCallMeter();
  const logs = new LogCapture();
  const random = seededRandom(SEED);
  const table = holdsBenchTable(HOLD_CONCURRENCY);
  const rules = fixedRules(table);
  const clock = { now: T0 };
  const backlog = new VirtualBacklog(clock);
  const config = loadRouterConfig(handlerEnvironment(stack));
  const routers = Array.from({ length: ROUTERS }, () => {
    const deps = routerDependencies(config, { table, client: createDocumentClient() });
    return {
      ...deps,
      rules,
      now: () => new Date(clock.now),
      capacity: { ledger: deps.capacity?.ledger as DynamoDbSlotLedger, backlog, recheckSec: 30 },
    };
  });
  const client = createDocumentClient();
  const log = new DynamoDbRoutingLog(client, stack.tables.routingLog);
  const ledger = new DynamoDbSlotLedger(client, stack.tables.providerHealth);
  const holds: HeldJobDependencies = {
    log,
    rules,
    ledger,
    backlog,
    now: () => new Date(clock.now),
    recheckSec: 30,
  };
  try {
    progress(
      `holds: ${HOLD_JOBS} auto jobs at once against fal and Replicate, concurrency ${HOLD_CONCURRENCY} each`,
    );
    const byJob = new Map<string, Tally>();
    const routedTally: Tally = { writes: 0, calls: 0, sends: 0 };
    let lineAtJoin = 0;
    const first: RoutingRecord[] = [];
    await mapConcurrently(
      Array.from({ length: HOLD_JOBS }, (_, i) => i),
      ROUTERS,
      async (i) => {
        const meter = new AwsCallMeter();
        const event = {
          id: `hold-event-${i}`,
          source: 'frontend.api',
          'detail-type': 'video.job.submitted',
          time: new Date(T0).toISOString(),
          detail: {
            jobId: `hold-${i}`,
            userId: `u-${i}`,
            prompt: 'bench clip',
            lengthSec: 8,
            resolution: '720p',
            provider: 'auto',
          },
        };
        const { record } = await meter.measure(() =>
          routeJob({ type: 'RouteJob', data: { event } }, routers[i % ROUTERS] as (typeof routers)[number]),
        );
        first.push(record);
        const tally: Tally = { writes: 0, calls: 0, sends: 0 };
        add(record.type === 'RoutingDeferred' ? tally : routedTally, meter.snapshot());
        if (record.type === 'RoutingDeferred') byJob.set(record.jobId, tally);
      },
    );
    for (const provider of PROVIDERS) lineAtJoin += (await ledger.waiting({ provider, shard: 0 })).length;
    const routedAtOnce = first.filter((r) => r.type === 'RoutingDecided');
    const held = first.filter((r) => r.type === 'RoutingDeferred');
    // In flight, from the log's own records: dispatches not yet completed, per provider.
    const running: { jobId: string; provider: string; version: number; endsAt: number }[] = [];
    const inFlight: Record<string, number> = { fal: 0, replicate: 0 };
    const maxInFlight: Record<string, number> = { fal: 0, replicate: 0 };
    const dispatch = (jobId: string, provider: string, version: number) => {
      running.push({ jobId, provider, version, endsAt: clock.now + RUN_SEC * 1000 * (0.8 + random() * 0.4) });
      inFlight[provider] = (inFlight[provider] ?? 0) + 1;
      maxInFlight[provider] = Math.max(maxInFlight[provider] ?? 0, inFlight[provider] ?? 0);
    };
    for (const r of routedAtOnce) if (r.type === 'RoutingDecided') dispatch(r.jobId, r.provider, r.version);
    const endings: HoldEnding[] = [];
    const holdsMeter = { recheck: new AwsCallMeter(), slot_freed: new AwsCallMeter() };
    let holdsWallMs = 0;
    progress(
      `holds: ${held.length} held; completions free slots in virtual time (runs of ${RUN_SEC} s ± 20 %)`,
    );
    for (;;) {
      // Deliver every message visible now, then move time to the next completion (or message).
      for (let message = backlog.next(); message; message = backlog.next()) {
        const started = performance.now();
        const current = message;
        const outcome = await holdsMeter[current.kind].measure(() => handleHoldMessage(current, holds));
        holdsWallMs += performance.now() - started;
        for (const ending of outcome.decided) {
          endings.push(ending);
          const { decision } = endingOutcome(ending);
          if (decision.type === 'RoutingDecided' && decision.jobId !== null)
            dispatch(decision.jobId, decision.provider, ending.version);
        }
      }
      if (endings.length === held.length) break;
      running.sort((a, b) => a.endsAt - b.endsAt);
      const done = running[0];
      const nextMessage = backlog.nextVisibleAt();
      if (!done && nextMessage === undefined) break;
      if (done && (nextMessage === undefined || done.endsAt <= nextMessage)) {
        running.shift();
        clock.now = Math.max(clock.now, done.endsAt);
        inFlight[done.provider] = (inFlight[done.provider] ?? 1) - 1;
        await releaseCompletedSlot(
          { provider: done.provider, dispatchId: `${done.jobId}:v${done.version}`, outcome: 'succeeded' },
          { ledger, rules, backlog },
        );
      } else if (nextMessage !== undefined) clock.now = Math.max(clock.now, nextMessage);
    }
    const heldMs = endings.map((e) => endingOutcome(e).afterHold?.heldMs ?? 0);
    const recheckSnapshot = holdsMeter.recheck.snapshot();
    const freedSnapshot = holdsMeter.slot_freed.snapshot();
    const heldTally: Tally = { writes: 0, calls: 0, sends: 0 };
    for (const tally of byJob.values()) {
      heldTally.writes += tally.writes;
      heldTally.calls += tally.calls;
      heldTally.sends += tally.sends;
    }
    add(heldTally, recheckSnapshot);
    add(heldTally, freedSnapshot);
    // The backlog here is in memory (virtual time): its sends are counted by the backlog, not the meter.
    heldTally.sends += backlog.counts.recheck + backlog.counts.slotFreed;
    const per = (tally: Tally, jobs: number): PathCost => ({
      jobs,
      writesPerJob: round(tally.writes / Math.max(1, jobs), 2),
      callsPerJob: round(tally.calls / Math.max(1, jobs), 2),
      sqsSendsPerJob: round(tally.sends / Math.max(1, jobs), 2),
    });
    const routedCost = per(routedTally, routedAtOnce.length);
    const heldCost = per(heldTally, held.length);
    const rejected = endings.filter((e) => endingOutcome(e).decision.type === 'RoutingRejected').length;
    logs.restore();
    return {
      jobs: HOLD_JOBS,
      routers: ROUTERS,
      concurrency: HOLD_CONCURRENCY,
      runSec: RUN_SEC,
      routedAtOnce: routedAtOnce.length,
      held: held.length,
      rejected: rejected + first.filter((r) => r.type === 'RoutingRejected').length,
      decidedAfterHold: endings.length,
      holdP50Sec: round(percentile(heldMs, 50) / 1000, 1),
      holdP95Sec: round(percentile(heldMs, 95) / 1000, 1),
      holdMaxSec: round(Math.max(0, ...heldMs) / 1000, 1),
      maxInFlight,
      overDispatch: Math.max(0, ...PROVIDERS.map((p) => (maxInFlight[p] ?? 0) - HOLD_CONCURRENCY)),
      routed: routedCost,
      heldPath: heldCost,
      extraWritesPerHeldJob: round(heldCost.writesPerJob - routedCost.writesPerJob, 2),
      backlogMessages: backlog.counts,
      perRecheck: {
        writes: round(writesOf(recheckSnapshot) / Math.max(1, backlog.counts.recheck), 2),
        calls: round(recheckSnapshot.totalCalls / Math.max(1, backlog.counts.recheck), 2),
      },
      perSlotFreed: {
        writes: round(writesOf(freedSnapshot) / Math.max(1, backlog.counts.slotFreed), 2),
        calls: round(freedSnapshot.totalCalls / Math.max(1, backlog.counts.slotFreed), 2),
      },
      decidedPerWallSecond: round(endings.length / (holdsWallMs / 1000), 1),
      holdsWallSeconds: round(holdsWallMs / 1000, 1),
      averageLineAtJoin: round(lineAtJoin / PROVIDERS.length, 1),
    };
  } finally {
    logs.restore();
    client.destroy();
  }
}

if (import.meta.main) {
  writeResult(await runHolds());
  process.exit(0);
}
