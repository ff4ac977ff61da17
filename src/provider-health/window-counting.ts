/**
 * Counting a signal and closing due windows: the I/O around the pure window module
 * (src/provider-health/signal-windows.ts).
 *
 *   count:  a fact is judged at its batch's **admission** instant (one clock read for the whole
 *           batch, the same the breaker's `windowed` flag was judged at): a fact whose window no
 *           longer admits (`isLate`) is `late` — refused, never silently: the handler logs and
 *           counts it; so is one that could no longer be written before its window closes
 *           (`isWritable`: only a runner without the HealthSignals function's timeout can be that
 *           slow). The others of a batch are stored together, as fact groups (the store writes one
 *           item per window touched; each key counts once when the window is read).
 *   close:  every window a pair's summary lists as open and that is due (WINDOW_SETTLE_MS after its
 *           admission ended, so every admitted write has landed) is read (its facts folded, each
 *           key once) and stored as one immutable record. Any instance may close any window, any
 *           number of times: the first record stays, and every closer reports and judges that
 *           record, never its own read.
 *
 * Time is passed in (`now`), so a replay with the same signals and clock rebuilds the same windows.
 */
import type {
  ClosedWindow,
  SignalWindowStore,
  WindowFact,
  WindowPair,
  WindowSummary,
} from '../ports/signal-windows.ts';
import { windowPairKey, windowRefKey } from '../ports/signal-windows.ts';
import {
  closeWindow,
  dueWindows,
  isLate,
  isWritable,
  SUMMARY_WINDOWS,
  windowStartOf,
} from './signal-windows.ts';

export interface SignalWindowDependencies {
  readonly windows: SignalWindowStore;
  /** Epoch ms. */
  readonly now: () => number;
}

/** `counted`: stored as a fact (a repeat of a key counts once when its window is read); `late`: refused. */
export type CountSignalResult = 'counted' | 'late';

/**
 * Counts a batch of facts: one answer per fact, in order; the fresh ones stored in one ingest.
 * `admittedAtMs`: the instant the batch was admitted at (default: now) — the breaker's `windowed`
 * and this answer then agree, however long the batch's other steps took in between.
 */
export async function countSignals(
  facts: readonly WindowFact[],
  deps: SignalWindowDependencies,
  admittedAtMs?: number,
): Promise<CountSignalResult[]> {
  const nowMs = deps.now();
  const admittedAt = admittedAtMs ?? nowMs;
  // Late: its window stopped admitting before the batch came, or it could no longer land before a
  // closer reads the window — stored then, it would be in no closed record (counted where no one looks).
  const answers = facts.map(
    (fact): CountSignalResult =>
      isLate(fact.windowStartMs, admittedAt) || !isWritable(fact.windowStartMs, nowMs) ? 'late' : 'counted',
  );
  const fresh = facts.filter((_, i) => answers[i] === 'counted');
  if (fresh.length > 0) await deps.windows.ingest(fresh);
  return answers;
}

/**
 * Closes the due windows of these pairs; returns the pairs' summaries as they stand after it (what
 * a reader of the ETA model wants), read once, closed windows merged in without a second read.
 */
export async function closeDueWindows(
  pairs: readonly WindowPair[],
  deps: SignalWindowDependencies,
): Promise<{ readonly summaries: Map<string, WindowSummary>; readonly closed: readonly ClosedWindow[] }> {
  const nowMs = deps.now();
  const summaries = await deps.windows.readSummaries(pairs);
  const closed: ClosedWindow[] = [];
  for (const [key, summary] of summaries) {
    const due = dueWindows(summary, nowMs);
    if (due.length === 0) continue;
    const fresh: ClosedWindow[] = [];
    const read = await deps.windows.readWindows(
      due.map((windowStartMs) => ({ pair: summary.pair, windowStartMs })),
    );
    for (const start of due) {
      const counts = read.get(windowRefKey({ pair: summary.pair, windowStartMs: start })) ?? {};
      // The record that stays (another closer's, if it closed first): what this run reports and judges.
      fresh.push(await deps.windows.storeClosed(closeWindow(summary.pair, start, counts), SUMMARY_WINDOWS));
    }
    closed.push(...fresh);
    const kept = [...summary.closed.filter((w) => !due.includes(w.windowStartMs)), ...fresh]
      .sort((a, b) => a.windowStartMs - b.windowStartMs)
      .slice(-SUMMARY_WINDOWS);
    summaries.set(key, {
      pair: summary.pair,
      closed: kept,
      open: summary.open.filter((start) => !due.includes(start)),
    });
  }
  for (const pair of pairs) {
    if (!summaries.has(windowPairKey(pair)))
      summaries.set(windowPairKey(pair), { pair, closed: [], open: [] });
  }
  return { summaries, closed };
}

/** What a closer's run found for a pair: the windows it closed, and the pair's summary after it. */
export interface ClosedPair {
  readonly closed: readonly ClosedWindow[];
  readonly summary: WindowSummary;
}

/**
 * The closer a signal handler runs after counting: at most once per pair per `everyMs` in this
 * container, so a burst of signals costs one summary read per second, not one per signal.
 */
export class ThrottledWindowCloser {
  readonly #deps: SignalWindowDependencies;
  readonly #everyMs: number;
  readonly #lastRun = new Map<string, number>();

  constructor(deps: SignalWindowDependencies, { everyMs = 1_000 }: { everyMs?: number } = {}) {
    this.#deps = deps;
    this.#everyMs = everyMs;
  }

  /** The pairs' closing, each unless it ran less than `everyMs` ago here (then it is left out). */
  async closeDue(pairs: readonly WindowPair[]): Promise<ClosedPair[]> {
    const nowMs = this.#deps.now();
    const due = new Map<string, WindowPair>();
    for (const pair of pairs) {
      const key = windowPairKey(pair);
      const last = this.#lastRun.get(key);
      if (due.has(key) || (last !== undefined && nowMs >= last && nowMs - last < this.#everyMs)) continue;
      this.#lastRun.set(key, nowMs);
      due.set(key, pair);
    }
    if (due.size === 0) return [];
    const { summaries, closed } = await closeDueWindows([...due.values()], this.#deps);
    return [...due.keys()].map((key) => ({
      closed: closed.filter((window) => windowPairKey(window.pair) === key),
      summary: summaries.get(key) as WindowSummary,
    }));
  }
}

/**
 * What a signal handler counts through: `count` stores a batch of facts in their windows, then
 * closes the pairs' due windows (throttled in this container). One per function instance, so the
 * throttle holds.
 */
export class SignalWindowCounter {
  readonly #deps: SignalWindowDependencies;
  readonly #closer: ThrottledWindowCloser;

  constructor(deps: SignalWindowDependencies) {
    this.#deps = deps;
    this.#closer = new ThrottledWindowCloser(deps);
  }

  /** The admission instant of a batch: now, read once, for `inTime` and `count` alike. */
  admit(): number {
    return this.#deps.now();
  }

  /**
   * Whether a signal of this event time is counted in time at `admittedAtMs` (its window still
   * admits): then its windows will be closed and judged, so the breaker leaves its decision to the fold.
   */
  inTime(atMs: number, admittedAtMs: number = this.#deps.now()): boolean {
    return !isLate(windowStartOf(atMs), admittedAtMs);
  }

  async count(
    facts: readonly WindowFact[],
    admittedAtMs?: number,
  ): Promise<{
    readonly counted: readonly CountSignalResult[];
    readonly closed: readonly ClosedPair[];
  }> {
    const counted = await countSignals(facts, this.#deps, admittedAtMs);
    return { counted, closed: await this.#closer.closeDue(facts.map((fact) => fact.pair)) };
  }
}
