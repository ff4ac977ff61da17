/**
 * The "decisions over time" chart's data, from what `decisions --output json` and
 * `history health#<breaker> --output json` print: routed per provider and rejected per reason,
 * counted per time bucket, and the breaker transitions inside the window. Pure: rows and the
 * window come in, no clock.
 */

export interface DecisionPoint {
  readonly recordedAt: string;
  readonly outcome: 'routed' | 'rejected';
  readonly provider: string | null;
  readonly reason: string | null;
}

export interface TransitionMark {
  readonly at: string;
  readonly breaker: string;
  readonly version: number;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface DecisionSeries {
  /** Start of each bucket, epoch seconds (what the chart's x axis takes). */
  readonly buckets: readonly number[];
  readonly bucketSeconds: number;
  /** `routed fal`, `rejected no_route`, … with one count per bucket. */
  readonly series: readonly { readonly label: string; readonly counts: readonly number[] }[];
  readonly transitions: readonly TransitionMark[];
}

/** Enough buckets to see a drill minute by minute, few enough to stay readable. */
const TARGET_BUCKETS = 30;
const MIN_BUCKET_SECONDS = 10;

export function bucketSecondsOf(sinceMs: number, untilMs: number): number {
  const span = Math.max(0, untilMs - sinceMs) / 1000;
  const raw = Math.max(MIN_BUCKET_SECONDS, Math.ceil(span / TARGET_BUCKETS));
  // Round up to a whole 10 s so bucket edges fall on readable times.
  return Math.ceil(raw / MIN_BUCKET_SECONDS) * MIN_BUCKET_SECONDS;
}

export function decisionSeries(
  rows: readonly DecisionPoint[],
  transitions: readonly TransitionMark[],
  window: { readonly since: string; readonly until: string },
): DecisionSeries {
  const sinceMs = Date.parse(window.since);
  const untilMs = Date.parse(window.until);
  const bucketSeconds = bucketSecondsOf(sinceMs, untilMs);
  const start = Math.floor(sinceMs / 1000 / bucketSeconds) * bucketSeconds;
  const count = Math.max(1, Math.ceil((untilMs / 1000 - start) / bucketSeconds));
  const buckets = Array.from({ length: count }, (_, i) => start + i * bucketSeconds);
  const series = new Map<string, number[]>();
  for (const row of rows) {
    const at = Date.parse(row.recordedAt);
    if (!Number.isFinite(at) || at < sinceMs || at >= untilMs) continue;
    const label =
      row.outcome === 'routed' ? `routed ${row.provider ?? '?'}` : `rejected ${row.reason ?? 'unknown'}`;
    const counts = series.get(label) ?? new Array<number>(count).fill(0);
    const index = Math.min(count - 1, Math.floor((at / 1000 - start) / bucketSeconds));
    counts[index] = (counts[index] ?? 0) + 1;
    series.set(label, counts);
  }
  return {
    buckets,
    bucketSeconds,
    series: [...series.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, counts]) => ({ label, counts })),
    transitions: transitions
      .filter((mark) => {
        const at = Date.parse(mark.at);
        return at >= sinceMs && at < untilMs;
      })
      .toSorted((a, b) => a.at.localeCompare(b.at) || a.breaker.localeCompare(b.breaker)),
  };
}
