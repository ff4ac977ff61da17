/**
 * Provider signals → event-time windows (issue 21, "facts → windows → state"). Pure: no I/O, no
 * clock (time is passed in), so the same signals always give the same windows.
 *
 * - A window is a tumbling WINDOW_MS slice of **event time** (the signal's own `time`, which every
 *   redelivery keeps) for one provider/model pair. Its content is whole-number counters:
 *     n                      signals counted
 *     o:<outcome>            attempts by outcome (succeeded, failed_retryable, failed_terminal)
 *     e:<errorClass>         failed attempts by class (`e:-`: no class reported)
 *     q:<bucket>             queue-wait histogram (provider.job.started), for the pair as a whole
 *     s:<segment>:<outcome>  attempts by outcome per segment (success rate)
 *     r:<segment>:<bucket>   run-time histogram of succeeded attempts per segment
 *     u:<segment>            charged micro-dollars (costUsd × 10⁶, rounded) per segment
 *     us:<segment>           output milliseconds of the attempts that reported a charge
 *     b:a / b:f              the breaker's evidence: attempts that count for it (successes and
 *                            provider-side failures) and the failures among them (isProviderSideFailure)
 *     k:…                    the run summary of that evidence in event-time order (ts, then key),
 *                            computed when the window is folded from its facts (`runCounters`): what
 *                            the breaker's consecutive rule folds (`WindowRun`, src/provider-health/breaker.ts)
 *   A segment is `<resolution>|<length bucket>` (`1080p|l10`), or `*` when the job's facts are
 *   unknown (a failed attempt: its job's stream is not read). Queue wait is a property of the
 *   provider account's own queue, not of the clip, so started signals are keyed by the pair only
 *   (they carry no resolution or length, and reading the job for each would cost a query a signal).
 * - Histograms use fixed log-scale buckets (HISTOGRAM_BOUNDS_MS, ×√2 apart from 100 ms to a week),
 *   so merging windows is an exact sum and every percentile is a finite bucket bound.
 * - Signals are stored as **facts**, not counters: a delivered batch is written as fact groups, one
 *   per window, each holding every signal's key and counters (`factGroups`), under an id made of
 *   the sorted keys. Closing folds a window's groups (`foldFacts`), counting each key once however
 *   many groups hold it — exactly once even when a redelivered batch is composed differently. It
 *   takes signals until its end + WINDOW_GRACE_MS and closes, once due (WINDOW_SETTLE_MS later, when
 *   every admitted write has landed: src/provider-health/window-time.ts), into one record whose id
 *   is made of stable facts only.
 */
import { createHash } from 'node:crypto';
import type {
  ClosedWindow,
  WindowCounts,
  WindowFact,
  WindowPair,
  WindowSummary,
} from '../ports/signal-windows.ts';
import { windowRefKey } from '../ports/signal-windows.ts';
import { segmentOf, type WindowTotals } from '../routing/eta.ts';
import {
  isProviderSideFailure,
  RUN_POINTS,
  type RunEvidence,
  type RunPoint,
  summariseRun,
  type WindowEvidence,
  type WindowRun,
} from './breaker.ts';
import { isDue, WINDOW_MS, windowStartOf } from './window-time.ts';

export {
  closesAtOf,
  isDue,
  isLate,
  isWritable,
  SIGNAL_HANDLING_MAX_MS,
  WINDOW_GRACE_MS,
  WINDOW_MS,
  WINDOW_SETTLE_MS,
  WRITE_LANDS_MS,
  windowStartOf,
} from './window-time.ts';
/**
 * A fact group holds at most this many bytes of facts (its JSON): far below DynamoDB's 400 KB item
 * limit with the key and attributes, and small enough that a redelivered group costs little.
 */
export const MAX_GROUP_BYTES = 64 * 1024;
/** Closed windows a pair's summary keeps (the newest), i.e. the ETA model's memory. */
export const SUMMARY_WINDOWS = 60;
/** Window items and dedupe markers expire (DynamoDB TTL) after this long. */
export const WINDOW_RETENTION_SEC = 7 * 24 * 3600;

const WEEK_MS = 7 * 24 * 3600 * 1000;
/** Upper bounds (ms, inclusive) of the histogram buckets: 100 ms × √2ⁱ, the last one ≥ a week. */
export const HISTOGRAM_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let i = 0; ; i++) {
    const bound = Math.round(100 * 2 ** (i / 2));
    bounds.push(bound);
    if (bound >= WEEK_MS) return bounds;
  }
})();

/** The bucket of a duration (ms): the first whose bound is ≥ it; anything beyond a week is the last. */
export function bucketOf(ms: number): number {
  const index = HISTOGRAM_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return index === -1 ? HISTOGRAM_BOUNDS_MS.length - 1 : index;
}

export { LENGTH_BUCKETS_SEC, lengthBucketOf, segmentOf } from '../routing/eta.ts';

/** The segment of an attempt whose job's facts are not known. */
export const UNKNOWN_SEGMENT = '*';

export const windowIdOf = (pair: WindowPair, windowStartMs: number): string =>
  windowRefKey({ pair, windowStartMs });

function factOf(pair: WindowPair, key: string, atMs: number, counts: Record<string, number>): WindowFact {
  return { pair, key, windowStartMs: windowStartOf(atMs), counts };
}

/** `provider.job.started`: one queue-wait sample. `key`: one per dispatch (a second start is the same fact). */
export function startedFact(signal: {
  readonly key: string;
  readonly atMs: number;
  readonly provider: string;
  readonly model: string | null;
  readonly queueWaitMs: number;
}): WindowFact {
  return factOf({ provider: signal.provider, model: signal.model }, signal.key, signal.atMs, {
    n: 1,
    [`q:${bucketOf(signal.queueWaitMs)}`]: 1,
  });
}

/** `provider.attempt.completed`: its outcome, class, run time and charge, in its job's segment. */
export function completedFact(signal: {
  readonly key: string;
  readonly atMs: number;
  readonly provider: string;
  readonly model: string | null;
  readonly outcome: string;
  readonly errorClass: string | null;
  readonly runMs?: number | undefined;
  readonly costUsd?: number | undefined;
  /** The job's facts (from its stream), when known. */
  readonly job?: { readonly resolution: string; readonly lengthSec: number } | undefined;
}): WindowFact {
  const segment = signal.job ? segmentOf(signal.job) : UNKNOWN_SEGMENT;
  const counts: Record<string, number> = {
    n: 1,
    [`o:${signal.outcome}`]: 1,
    [`s:${segment}:${signal.outcome}`]: 1,
  };
  if (signal.outcome !== 'succeeded') counts[`e:${signal.errorClass ?? '-'}`] = 1;
  // The breaker's evidence, by its own rule: a success, or a provider-side failure (not `unknown`).
  const counted = signal.outcome !== 'unknown' && isProviderSideFailure(signal.errorClass);
  if (signal.outcome === 'succeeded' || counted) counts['b:a'] = 1;
  if (signal.outcome !== 'succeeded' && counted) counts['b:f'] = 1;
  if (signal.outcome === 'succeeded' && signal.runMs !== undefined) {
    counts[`r:${segment}:${bucketOf(signal.runMs)}`] = 1;
  }
  if (signal.costUsd !== undefined && signal.job) {
    counts[`u:${segment}`] = Math.round(signal.costUsd * 1_000_000);
    counts[`us:${segment}`] = Math.round(signal.job.lengthSec * 1000);
  }
  const fact = factOf({ provider: signal.provider, model: signal.model }, signal.key, signal.atMs, counts);
  // The breaker's evidence keeps its event time: the run summary orders it (ts, then key).
  return counts['b:a'] ? { ...fact, atMs: signal.atMs } : fact;
}

/** The exact sum of counters (shards into a window, windows into a view), keys sorted. */
export function sumCounts(parts: readonly WindowCounts[]): WindowCounts {
  const sum = new Map<string, number>();
  for (const part of parts) {
    for (const [name, value] of Object.entries(part)) {
      if (Number.isFinite(value)) sum.set(name, (sum.get(name) ?? 0) + value);
    }
  }
  return Object.fromEntries([...sum].filter(([, value]) => value !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function closeWindow(pair: WindowPair, windowStartMs: number, counts: WindowCounts): ClosedWindow {
  return {
    id: windowIdOf(pair, windowStartMs),
    pair,
    windowStartMs,
    windowEndMs: windowStartMs + WINDOW_MS,
    counts: sumCounts([counts]),
  };
}

/** What the breaker's rules read of a closed window: its `b:a` / `b:f` counters and its run summary. */
export const breakerEvidenceOf = (window: ClosedWindow): WindowEvidence => {
  const run = runOf(window.counts);
  return {
    id: window.id,
    startMs: window.windowStartMs,
    endMs: window.windowEndMs,
    attempts: window.counts['b:a'] ?? 0,
    failures: window.counts['b:f'] ?? 0,
    ...(run ? { run } : {}),
  };
};

const RUN_PREFIX = 'k:';

/**
 * The run summary as counters (whole numbers by name, like everything a window holds): `k:lead`,
 * `k:trail`, `k:succ` (1: a success), and each point as `k:L<i>:<key>:<class>` (the i-th failure of
 * the leading run) or `k:R<n>:<key>:<class>` (where a run after a success first reaches n), its
 * value the event time (epoch ms). Keys are `attempt-<hex>` (no colon), so the class is the rest.
 */
export function runCounters(run: WindowRun): Record<string, number> {
  const counts: Record<string, number> = {
    [`${RUN_PREFIX}lead`]: run.lead,
    [`${RUN_PREFIX}trail`]: run.trail,
    [`${RUN_PREFIX}succ`]: run.successes ? 1 : 0,
  };
  const name = (tag: string, point: RunPoint) => `${RUN_PREFIX}${tag}:${point.key}:${point.errorClass ?? ''}`;
  for (const [i, point] of run.leading.entries()) counts[name(`L${i + 1}`, point)] = point.atMs;
  for (const [i, point] of run.reaching.entries()) {
    if (point) counts[name(`R${i + 1}`, point)] = point.atMs;
  }
  return counts;
}

/** The run summary a window's counters hold; undefined when it holds none (no counted evidence). */
export function runOf(counts: WindowCounts): WindowRun | undefined {
  const names = Object.keys(counts).filter((name) => name.startsWith(RUN_PREFIX));
  if (names.length === 0) return undefined;
  const leading: (RunPoint | undefined)[] = [];
  const reaching: (RunPoint | null)[] = Array.from({ length: RUN_POINTS }, () => null);
  for (const name of names) {
    const match = /^k:([LR])(\d+):([^:]*):(.*)$/.exec(name);
    if (!match) continue;
    const [, tag, index, key, errorClass] = match as unknown as [string, string, string, string, string];
    const i = Number(index) - 1;
    const atMs = counts[name] as number;
    if (i < 0 || i >= RUN_POINTS) continue;
    const point = { atMs, key, errorClass: errorClass === '' ? null : errorClass };
    if (tag === 'L') leading[i] = point;
    else reaching[i] = point;
  }
  // The leading points are stored 1…k without a gap; anything after a gap is not trusted.
  const contiguous: RunPoint[] = [];
  for (let i = 0; i < RUN_POINTS && leading[i] !== undefined; i++) contiguous.push(leading[i] as RunPoint);
  return {
    lead: counts[`${RUN_PREFIX}lead`] ?? 0,
    trail: counts[`${RUN_PREFIX}trail`] ?? 0,
    successes: (counts[`${RUN_PREFIX}succ`] ?? 0) > 0,
    leading: contiguous,
    reaching,
  };
}

/** One signal as a window stores it: its dedupe key, its counters and, for breaker evidence, its event time. */
export interface StoredFact {
  readonly key: string;
  readonly counts: WindowCounts;
  readonly atMs?: number;
}

/** A fact's stored form, counters in name order: the same facts always give the same text. */
export const factText = (fact: StoredFact): string =>
  JSON.stringify([
    fact.key,
    Object.fromEntries(Object.entries(fact.counts).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(fact.atMs === undefined ? [] : [fact.atMs]),
  ]);

/**
 * A window's facts folded into its counters, each key counted once whichever groups (and how many
 * copies) hold it. Copies of one key carry the same counters (the same signal); should they ever
 * differ, the copy whose text sorts first counts, so the result never depends on the order read.
 */
export function foldFacts(facts: readonly StoredFact[]): WindowCounts {
  const chosen = new Map<string, { text: string; fact: StoredFact }>();
  for (const fact of facts) {
    const text = factText(fact);
    const held = chosen.get(fact.key);
    if (!held || text < held.text) chosen.set(fact.key, { text, fact });
  }
  const kept = [...chosen.values()].map((c) => c.fact);
  const evidence = kept.flatMap((fact): RunEvidence[] =>
    fact.atMs !== undefined && fact.counts['b:a'] === 1
      ? [
          {
            atMs: fact.atMs,
            key: fact.key,
            failed: fact.counts['b:f'] === 1,
            errorClass: classOf(fact.counts),
          },
        ]
      : [],
  );
  const run = evidence.length > 0 ? runCounters(summariseRun(evidence)) : {};
  return sumCounts([...kept.map((fact) => fact.counts), run]);
}

/** A failure's class as its `e:<class>` counter names it. */
const classOf = (counts: WindowCounts): string | null => {
  const name = Object.keys(counts).find((n) => n.startsWith('e:'));
  return name === undefined || name === 'e:-' ? null : name.slice(2);
};

/** A window's share of a delivered batch: written as one item, its id made of its sorted keys. */
export interface FactGroup {
  readonly pair: WindowPair;
  readonly windowStartMs: number;
  /** sha-256 of the sorted keys (hex, 16 characters): the same batch always writes the same item. */
  readonly id: string;
  /** The facts, sorted by key, one per key. */
  readonly facts: readonly StoredFact[];
  /** The JSON text of the facts, what the item stores (≤ maxBytes). */
  readonly text: string;
}

/**
 * A batch of facts as the groups it is written in: one per window (pair and start), each split
 * into parts of at most `maxBytes` of JSON, in key order (deterministic). A key twice in the batch
 * is written once. Ids come from the keys only — never the clock or the arrival order — so a
 * redelivery of the same batch rewrites the same items, and one composed differently writes other
 * items whose keys `foldFacts` counts once.
 */
export function factGroups(facts: readonly WindowFact[], maxBytes = MAX_GROUP_BYTES): FactGroup[] {
  // Each fact's text is made once: it picks among copies of a key, sizes the parts and is stored.
  type Entry = { readonly fact: StoredFact; readonly text: string };
  const byWindow = new Map<string, { pair: WindowPair; start: number; facts: Map<string, Entry> }>();
  for (const fact of facts) {
    const ref = windowIdOf(fact.pair, fact.windowStartMs);
    let entry = byWindow.get(ref);
    if (!entry) {
      entry = { pair: fact.pair, start: fact.windowStartMs, facts: new Map() };
      byWindow.set(ref, entry);
    }
    const stored: StoredFact = {
      key: fact.key,
      counts: fact.counts,
      ...(fact.atMs === undefined ? {} : { atMs: fact.atMs }),
    };
    const text = factText(stored);
    const held = entry.facts.get(fact.key);
    if (!held || text < held.text) entry.facts.set(fact.key, { fact: stored, text });
  }
  const groups: FactGroup[] = [];
  const windows = [...byWindow].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
  for (const { pair, start, facts: byKey } of windows) {
    const sorted = [...byKey.values()].sort((a, b) =>
      a.fact.key < b.fact.key ? -1 : a.fact.key > b.fact.key ? 1 : 0,
    );
    let part: Entry[] = [];
    let bytes = 2;
    const flush = () => {
      if (part.length === 0) return;
      const text = `[${part.map((e) => e.text).join(',')}]`;
      const id = createHash('sha256')
        .update(JSON.stringify(part.map((e) => e.fact.key)))
        .digest('hex')
        .slice(0, 16);
      groups.push({ pair, windowStartMs: start, id, facts: part.map((e) => e.fact), text });
      part = [];
      bytes = 2;
    };
    for (const entry of sorted) {
      const size = Buffer.byteLength(entry.text) + 1;
      if (part.length > 0 && bytes + size > maxBytes) flush();
      part.push(entry);
      bytes += size;
    }
    flush();
  }
  return groups;
}

/** Reads a group's stored text back into facts; anything malformed is left out, never thrown. */
export function parseFacts(text: string): StoredFact[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const facts: StoredFact[] = [];
  for (const entry of parsed) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const counts = entry[1];
    if (typeof counts !== 'object' || counts === null) continue;
    const numbers = Object.entries(counts as Record<string, unknown>).filter(
      (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
    );
    const atMs = entry[2];
    facts.push({
      key: entry[0],
      counts: Object.fromEntries(numbers),
      ...(typeof atMs === 'number' && Number.isFinite(atMs) ? { atMs } : {}),
    });
  }
  return facts;
}

/**
 * The reference fold: these facts (in any order, repeats counted once) as closed windows, oldest
 * first. What the store must rebuild from the same signals; replays and tests compare against it.
 */
export function foldWindows(facts: readonly WindowFact[]): ClosedWindow[] {
  const byWindow = new Map<string, { pair: WindowPair; start: number; facts: StoredFact[] }>();
  for (const fact of facts) {
    const id = windowIdOf(fact.pair, fact.windowStartMs);
    const entry = byWindow.get(id) ?? { pair: fact.pair, start: fact.windowStartMs, facts: [] };
    entry.facts.push({
      key: fact.key,
      counts: fact.counts,
      ...(fact.atMs === undefined ? {} : { atMs: fact.atMs }),
    });
    byWindow.set(id, entry);
  }
  return [...byWindow.values()]
    .map(({ pair, start, facts: held }) => closeWindow(pair, start, foldFacts(held)))
    .sort((a, b) => a.windowStartMs - b.windowStartMs || (a.id < b.id ? -1 : 1));
}

/** Histogram (bucket → count) of the counters with this prefix (`q:`, `r:1080p|l10:`). */
export function histogramOf(counts: WindowCounts, prefix: string): Map<number, number> {
  const histogram = new Map<number, number>();
  for (const [name, value] of Object.entries(counts)) {
    if (!name.startsWith(prefix)) continue;
    const bucket = Number(name.slice(prefix.length));
    if (Number.isInteger(bucket) && bucket >= 0 && bucket < HISTOGRAM_BOUNDS_MS.length && value > 0) {
      histogram.set(bucket, (histogram.get(bucket) ?? 0) + value);
    }
  }
  return histogram;
}

export const samplesOf = (histogram: ReadonlyMap<number, number>): number =>
  [...histogram.values()].reduce((sum, count) => sum + count, 0);

/**
 * The q-quantile (0 < q ≤ 1) of a histogram, as the upper bound (ms) of the bucket holding it: a
 * conservative, finite estimate (at most √2 above the true value). null for an empty histogram.
 */
export function quantileMs(histogram: ReadonlyMap<number, number>, q: number): number | null {
  const total = samplesOf(histogram);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket) ?? 0;
    if (seen >= rank) return HISTOGRAM_BOUNDS_MS[bucket] as number;
  }
  return HISTOGRAM_BOUNDS_MS.at(-1) as number;
}

/** What a pair's windows say about one segment (or the pair as a whole: segment undefined). */
export interface SegmentStats extends WindowTotals {
  /** Queue wait (pair-wide) and run time (the segment's succeeded attempts), in ms; null: no sample. */
  readonly queueP50Ms: number | null;
  readonly queueP95Ms: number | null;
  readonly runP50Ms: number | null;
  readonly runP95Ms: number | null;
  readonly runSamples: number;
  readonly queueSamples: number;
  readonly windows: number;
}

/** The statistics of a pair's closed windows for a segment (undefined: every segment together). */
export function segmentStats(windows: readonly ClosedWindow[], segment?: string): SegmentStats {
  const counts = sumCounts(windows.map((window) => window.counts));
  const queue = histogramOf(counts, 'q:');
  const runPrefix = segment === undefined ? 'r:' : `r:${segment}:`;
  const run = segment === undefined ? histogramOfAnySegment(counts, 'r:') : histogramOf(counts, runPrefix);
  let attempts = 0;
  let succeeded = 0;
  let chargedMicroUsd = 0;
  let chargedOutputMs = 0;
  for (const [name, value] of Object.entries(counts)) {
    const [kind, seg, rest] = splitCounter(name);
    if (segment !== undefined && seg !== segment) continue;
    if (kind === 's' && (rest === 'succeeded' || rest === 'failed_terminal')) {
      attempts += value;
      if (rest === 'succeeded') succeeded += value;
    } else if (kind === 'u') chargedMicroUsd += value;
    else if (kind === 'us') chargedOutputMs += value;
  }
  const starts = windows.map((window) => window.windowStartMs);
  const ends = windows.map((window) => window.windowEndMs);
  return {
    queueP50Ms: quantileMs(queue, 0.5),
    queueP95Ms: quantileMs(queue, 0.95),
    runP50Ms: quantileMs(run, 0.5),
    runP95Ms: quantileMs(run, 0.95),
    runSamples: samplesOf(run),
    queueSamples: samplesOf(queue),
    attempts,
    succeeded,
    chargedMicroUsd,
    chargedOutputMs,
    fromMs: starts.length > 0 ? Math.min(...starts) : null,
    toMs: ends.length > 0 ? Math.max(...ends) : null,
    windows: windows.length,
  };
}

/** `r:<segment>:<bucket>` of every segment, merged. */
function histogramOfAnySegment(counts: WindowCounts, prefix: string): Map<number, number> {
  const histogram = new Map<number, number>();
  for (const [name, value] of Object.entries(counts)) {
    if (!name.startsWith(prefix)) continue;
    const bucket = Number(name.slice(name.lastIndexOf(':') + 1));
    if (Number.isInteger(bucket) && bucket >= 0 && bucket < HISTOGRAM_BOUNDS_MS.length && value > 0) {
      histogram.set(bucket, (histogram.get(bucket) ?? 0) + value);
    }
  }
  return histogram;
}

/** `s:1080p|l10:succeeded` → ['s', '1080p|l10', 'succeeded']; `u:*` → ['u', '*', '']. */
function splitCounter(name: string): [string, string, string] {
  const first = name.indexOf(':');
  if (first === -1) return [name, '', ''];
  const kind = name.slice(0, first);
  const tail = name.slice(first + 1);
  const second = tail.indexOf(':');
  return second === -1 ? [kind, tail, ''] : [kind, tail.slice(0, second), tail.slice(second + 1)];
}

/** The windows of a summary that count at `nowMs`: closed ones no older than `horizonMs`. */
export function recentWindows(summary: WindowSummary | undefined, nowMs: number, horizonMs: number) {
  return (summary?.closed ?? []).filter((window) => window.windowEndMs >= nowMs - horizonMs);
}

/** Open windows of a summary that are due at `nowMs`, oldest first (what a closer closes). */
export const dueWindows = (summary: WindowSummary | undefined, nowMs: number): number[] =>
  [...(summary?.open ?? [])].filter((start) => isDue(start, nowMs)).sort((a, b) => a - b);
