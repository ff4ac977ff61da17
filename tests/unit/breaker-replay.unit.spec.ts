/**
 * Issue 21: "A replay of the same signals rebuilds identical windows and identical transitions" —
 * both opening rules, the consecutive one included. Signals are ingested live (in-memory stores, a
 * fake clock, the real HandleProviderSignal batch path and the scheduled closer), in any arrival
 * order within their window's grace, split into any batches, some delivered twice; the closed
 * window records and the breaker's transition records must equal those of any other such
 * ingestion, and those of the pure reference fold over the set (foldWindows → JudgeWindows).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeWindowsOnTime } from '../../src/commands/close-windows-on-time.ts';
import { ingestSignalBatch } from '../../src/commands/handle-provider-signal.ts';
import type { HealthTransition } from '../../src/log/health-records.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import type { ClosedWindow } from '../../src/ports/signal-windows.ts';
import {
  handleHealthCommand,
  initialBreakerState,
  type RecordAttempt,
  transitionsOf,
} from '../../src/provider-health/breaker.ts';
import {
  breakerEvidenceOf,
  completedFact,
  foldWindows,
  WINDOW_GRACE_MS,
  WINDOW_MS,
  windowStartOf,
} from '../../src/provider-health/signal-windows.ts';
import type { HealthSignal } from '../../src/provider-health/signals.ts';
import { SignalWindowCounter } from '../../src/provider-health/window-counting.ts';

const T0 = Date.parse('2026-11-25T14:00:00.000Z');
const PAIR = { provider: 'fal', model: 'wan-i2v' } as const;

type Kind = 'success' | 'server_error' | 'timeout' | 'invalid_request' | 'unknown';

interface Spec {
  readonly key: string;
  readonly atMs: number;
  readonly kind: Kind;
}

const outcomeOf = (kind: Kind): RecordAttempt['outcome'] =>
  kind === 'success' ? 'succeeded' : kind === 'unknown' ? 'unknown' : 'failed_terminal';
const classOf = (kind: Kind): string | null =>
  kind === 'success' || kind === 'unknown' ? null : kind === 'invalid_request' ? kind : kind;

function signalOf({ key, atMs, kind }: Spec): HealthSignal {
  const at = new Date(atMs).toISOString();
  const outcome = outcomeOf(kind);
  const errorClass = classOf(kind);
  return {
    ...PAIR,
    key: `${PAIR.provider}#${PAIR.model}`,
    attempt: {
      jobId: `job-${key}`,
      provider: PAIR.provider,
      model: PAIR.model,
      dispatchId: `job-${key}:v1`,
      outcome,
      errorClass,
      ts: at,
    },
    command: { type: 'RecordAttempt', signalId: key, at, outcome, errorClass, dispatchId: `job-${key}:v1` },
  };
}

/** One delivery: a signal arriving at `arrivalMs` (within its window's grace: it is counted). */
interface Delivery {
  readonly spec: Spec;
  readonly arrivalMs: number;
}

/** Live ingestion of these deliveries in arrival order, `cuts` splitting them into batches. */
async function ingestLive(deliveries: readonly Delivery[], batchSizes: readonly number[]) {
  const log = new InMemoryRoutingLog();
  const store = new InMemoryProviderHealthStore(log);
  const windows = new InMemorySignalWindows();
  const clock = { now: 0 };
  const deps = { store, windows: new SignalWindowCounter({ windows, now: () => clock.now }) };
  const ordered = [...deliveries].sort((a, b) => a.arrivalMs - b.arrivalMs);
  let i = 0;
  let b = 0;
  while (i < ordered.length) {
    const size = batchSizes[b++ % batchSizes.length] ?? 1;
    const batch = ordered.slice(i, i + size);
    i += size;
    // A batch is taken when its last signal has arrived, and before any of its signals is late.
    const lastMoment = Math.min(
      ...batch.map((d) => windowStartOf(d.spec.atMs) + WINDOW_MS + WINDOW_GRACE_MS - 1),
    );
    clock.now = Math.max(clock.now, Math.min((batch.at(-1) as Delivery).arrivalMs, lastMoment));
    await ingestSignalBatch(
      batch.map((d) => signalOf(d.spec)),
      deps,
    );
  }
  // Traffic stops: the scheduled closer closes and judges what is left, on time.
  clock.now = Math.max(clock.now, T0 + 120_000);
  await closeWindowsOnTime(
    [PAIR],
    { store, windows: { windows, now: () => clock.now }, sleep: async () => {} },
    {
      budgetMs: 0,
    },
  );
  const summary = (await windows.readSummaries([PAIR])).values().next().value;
  const closed: ClosedWindow[] = [...(summary?.closed ?? [])];
  const transitions = (await log.readStream('health#fal#wan-i2v')).map(
    (record) => (record.data as { transition: HealthTransition }).transition,
  );
  return { closed, transitions };
}

/** The reference: the set of signals folded into windows, the windows judged by the pure breaker. */
function referenceFold(specs: readonly Spec[]) {
  const facts = specs.map((spec) => {
    const signal = signalOf(spec);
    return completedFact({
      key: spec.key,
      atMs: spec.atMs,
      provider: PAIR.provider,
      model: PAIR.model,
      outcome: signal.command.type === 'RecordAttempt' ? signal.command.outcome : 'unknown',
      errorClass: classOf(spec.kind),
    });
  });
  const closed = foldWindows(facts);
  const { events } = handleHealthCommand(initialBreakerState(PAIR.provider, PAIR.model), {
    type: 'JudgeWindows',
    windows: closed.map(breakerEvidenceOf),
  });
  return { closed, transitions: transitionsOf(events) };
}

const kinds: Kind[] = ['success', 'server_error', 'timeout', 'invalid_request', 'unknown'];
/** Signals over 40 s of event time (shorter than the shortest open period: no half-open). */
const specsArbitrary = fc
  .array(
    fc.record({
      atMs: fc.integer({ min: 0, max: 39_999 }),
      kind: fc.constantFrom(...kinds, 'server_error', 'server_error', 'timeout'),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((raw) =>
    raw.map(
      (r, i): Spec => ({ key: `attempt-${String(i).padStart(4, '0')}`, atMs: T0 + r.atMs, kind: r.kind }),
    ),
  );

/** An arrival schedule: each signal once or twice, each copy within its window's grace. */
const scheduleOf = (specs: readonly Spec[]) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: WINDOW_GRACE_MS - 1 }), {
        minLength: specs.length,
        maxLength: specs.length,
      }),
      fc.array(fc.option(fc.integer({ min: 0, max: WINDOW_GRACE_MS - 1 }), { nil: null }), {
        minLength: specs.length,
        maxLength: specs.length,
      }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
    )
    .map(([delays, again, batches]) => ({
      deliveries: specs.flatMap((spec, i): Delivery[] => [
        { spec, arrivalMs: spec.atMs + (delays[i] ?? 0) },
        ...(again[i] == null ? [] : [{ spec, arrivalMs: spec.atMs + (again[i] as number) }]),
      ]),
      batches,
    }));

describe('replay: the same signals rebuild identical windows and transitions', () => {
  it('given the same signals in any order, batching and redelivery, then the closed windows and the breaker transitions (consecutive rule included) are identical, and equal the reference fold', async () => {
    await fc.assert(
      fc.asyncProperty(
        specsArbitrary.chain((specs) => fc.tuple(fc.constant(specs), scheduleOf(specs), scheduleOf(specs))),
        async ([specs, first, second]) => {
          const a = await ingestLive(first.deliveries, first.batches);
          const b = await ingestLive(second.deliveries, second.batches);
          const reference = referenceFold(specs);
          expect(a.closed).toEqual(reference.closed);
          expect(b.closed).toEqual(reference.closed);
          expect(a.transitions).toEqual(reference.transitions);
          expect(b.transitions).toEqual(reference.transitions);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('given five failures in a row, when a success inside the run arrives after the fast path opened, then both orders record the same thing: no consecutive opening', async () => {
    const specs: Spec[] = [0, 1, 2, 4, 5, 6].map((s, i) => ({
      key: `attempt-f${i}`,
      atMs: T0 + s * 1000,
      kind: 'server_error',
    }));
    const success: Spec = { key: 'attempt-s3', atMs: T0 + 3000, kind: 'success' };
    // Live: the six failures first (the fast path sees 5 in a row), the success 4 s late.
    const late = await ingestLive(
      [
        ...specs.map((spec) => ({ spec, arrivalMs: spec.atMs })),
        { spec: success, arrivalMs: success.atMs + 4_000 },
      ],
      [1],
    );
    // Replay: the success first.
    const early = await ingestLive(
      [
        { spec: success, arrivalMs: success.atMs },
        ...specs.map((spec) => ({ spec, arrivalMs: spec.atMs + 10 })),
      ],
      [1],
    );
    expect(late.transitions).toEqual([]);
    expect(early.transitions).toEqual([]);
    expect(late.closed).toEqual(early.closed);
  });
});
