/**
 * Counting a signal and closing due windows: the I/O around the pure window module
 * (src/provider-health/signal-windows.ts).
 *
 *   count:  a fact whose window is already due is `late` (refused, never silently: the handler logs
 *           and counts it); otherwise the store adds it once per key.
 *   close:  every window a pair's summary lists as open and that is due is read from its shards,
 *           summed (closeWindow) and stored as one immutable record. Any instance may close any
 *           window, any number of times: the sums are the same, and the first record stays.
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
import { closeWindow, dueWindows, isDue, SUMMARY_WINDOWS, WINDOW_SHARDS } from './signal-windows.ts';

export interface SignalWindowDependencies {
  readonly windows: SignalWindowStore;
  /** Epoch ms. */
  readonly now: () => number;
}

export type CountSignalResult = 'counted' | 'duplicate' | 'late';

export async function countSignal(
  fact: WindowFact,
  deps: SignalWindowDependencies,
): Promise<CountSignalResult> {
  // After its window is due a closer may already have summed it: counting it now would change
  // nothing anyone reads, so it is refused as late rather than counted where no one looks.
  if (isDue(fact.windowStartMs, deps.now())) return 'late';
  return deps.windows.ingest(fact);
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
    const read = await deps.windows.readShards(
      due.map((windowStartMs) => ({ pair: summary.pair, windowStartMs })),
      WINDOW_SHARDS,
    );
    for (const start of due) {
      const shards = read.get(windowRefKey({ pair: summary.pair, windowStartMs: start })) ?? [];
      const window = closeWindow(summary.pair, start, shards);
      await deps.windows.storeClosed(window, SUMMARY_WINDOWS);
      fresh.push(window);
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

  async closeDue(pair: WindowPair): Promise<readonly ClosedWindow[]> {
    const key = windowPairKey(pair);
    const nowMs = this.#deps.now();
    const last = this.#lastRun.get(key);
    if (last !== undefined && nowMs >= last && nowMs - last < this.#everyMs) return [];
    this.#lastRun.set(key, nowMs);
    return (await closeDueWindows([pair], this.#deps)).closed;
  }
}

/**
 * What a signal handler counts through: `count` adds a fact to its window, then closes the pair's
 * due windows (throttled in this container). One per function instance, so the throttle holds.
 */
export class SignalWindowCounter {
  readonly #deps: SignalWindowDependencies;
  readonly #closer: ThrottledWindowCloser;

  constructor(deps: SignalWindowDependencies) {
    this.#deps = deps;
    this.#closer = new ThrottledWindowCloser(deps);
  }

  async count(
    fact: WindowFact,
  ): Promise<{ readonly counted: CountSignalResult; readonly closed: readonly ClosedWindow[] }> {
    const counted = await countSignal(fact, this.#deps);
    return { counted, closed: await this.#closer.closeDue(fact.pair) };
  }
}
