/**
 * The audit window: which partitions of the `byProviderTimeKeys` index hold the decisions of a time
 * window, and the sort-key bounds that select the window inside each. Pure — `now` is passed in.
 *
 * Index keys (src/log/routing-records.ts): gsi1pk = `<provider>#<yyyy-mm-dd>#<shard 0..7>`,
 * gsi1sk = `<recordedAt ISO>#<stream>`. The window is half-open, [since, until): a record at
 * exactly `since` has gsi1sk `<since>#…` ≥ `<since>`, one at exactly `until` has gsi1sk
 * `<until>#…` > `<until>`, so `gsi1sk BETWEEN :since AND :until` selects exactly [since, until)
 * and consecutive windows never count a decision twice.
 */
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { RoutingManagerError } from '../errors.ts';
import { AUDIT_SHARDS, auditPartition, type DecisionRecord } from '../log/routing-records.ts';
import type { AuditQueryProgress, AuditWindow } from '../ports/audit-index.ts';
import { byIndexOrder } from './decision-filter.ts';

/** 92 days × 8 shards = 736 Query calls per provider: beyond that, an export is the better tool. */
export const MAX_WINDOW_DAYS = 92;

export interface AuditPartitionQuery {
  readonly gsi1pk: string;
  readonly provider: string;
  readonly day: string;
  readonly shard: number;
}

export class InvalidAuditWindowError extends RoutingManagerError {
  constructor(message: string) {
    super('invalid_audit_window', message);
    this.name = 'InvalidAuditWindowError';
  }
}

const RELATIVE = /^(\d+)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// A date and time with an explicit zone: a zoneless time would silently mean the machine's zone.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses a point in time given on the command line: an ISO 8601 date (`2026-11-25`, midnight
 * UTC), a date-time with a zone (`2026-11-25T10:00:00Z`, `…+01:00`), `now`, or a duration before
 * `now` (`90m`, `6h`, `2d`, `1w`). Returns the ISO string in UTC with milliseconds.
 */
export function parseInstant(text: string, now: Date, label = 'time'): string {
  const value = text.trim();
  if (value === 'now') return now.toISOString();
  const relative = RELATIVE.exec(value);
  if (relative) {
    const unit = relative[2] as keyof typeof UNIT_MS;
    // A duration past the calendar's range (`99999999999h`) is not a time: refused, never a RangeError.
    const instant = new Date(now.getTime() - Number(relative[1]) * UNIT_MS[unit]);
    if (!Number.isNaN(instant.getTime())) return instant.toISOString();
  }
  if (DATE_ONLY.test(value) || DATE_TIME.test(value)) {
    const parsed = new Date(DATE_ONLY.test(value) ? `${value}T00:00:00.000Z` : value);
    if (!Number.isNaN(parsed.getTime())) return parsed.toISOString();
  }
  throw new InvalidAuditWindowError(
    `${label} "${text}" is not a time: use an ISO date (2026-11-25), a date-time with a zone ` +
      '(2026-11-25T10:00:00Z), "now", or a duration before now (90m, 6h, 2d, 1w)',
  );
}

export function auditWindow(since: string, until: string, now: Date): AuditWindow {
  const window = { since: parseInstant(since, now, '--since'), until: parseInstant(until, now, '--until') };
  if (window.since >= window.until) {
    throw new InvalidAuditWindowError(`--since (${window.since}) must be before --until (${window.until})`);
  }
  const days = daysOf(window).length;
  if (days > MAX_WINDOW_DAYS) {
    throw new InvalidAuditWindowError(
      `the window spans ${days} days; at most ${MAX_WINDOW_DAYS} are allowed`,
    );
  }
  return window;
}

/** The UTC days the window touches, in order (`until` itself is excluded). */
export function daysOf(window: AuditWindow): string[] {
  const days: string[] = [];
  const last = new Date(new Date(window.until).getTime() - 1).toISOString().slice(0, 10);
  for (let day = new Date(`${window.since.slice(0, 10)}T00:00:00.000Z`); ; ) {
    const text = day.toISOString().slice(0, 10);
    days.push(text);
    if (text >= last) return days;
    day = new Date(day.getTime() + 86_400_000);
  }
}

/**
 * The index partitions of one day for every provider, all shards: a day's decisions of these
 * providers are exactly the union of these partitions (the shard spreads writes, not meaning).
 */
export function partitionsOfDay(providers: readonly string[], day: string): AuditPartitionQuery[] {
  return providers.flatMap((provider) =>
    Array.from({ length: AUDIT_SHARDS }, (_, shard) => ({
      gsi1pk: auditPartition(provider, day, shard),
      provider,
      day,
      shard,
    })),
  );
}

/** Every partition of the window, day by day: providers × days × shards. */
export function partitionsOf(providers: readonly string[], window: AuditWindow): AuditPartitionQuery[] {
  return daysOf(window).flatMap((day) => partitionsOfDay(providers, day));
}

/**
 * The audit index's read order, whatever holds the index: each day's partitions are read (at most
 * `concurrency` at once), merged by gsi1sk and yielded before the next day is touched, so a consumer
 * that stops early reads no further and memory holds one day at a time.
 */
export async function* decisionsDayByDay(
  providers: readonly string[],
  window: AuditWindow,
  readPartition: (gsi1pk: string) => Promise<DecisionRecord[]>,
  options: { readonly concurrency: number; readonly onProgress?: (progress: AuditQueryProgress) => void },
): AsyncGenerator<DecisionRecord> {
  const days = daysOf(window);
  const partitionsTotal = days.length * providers.length * AUDIT_SHARDS;
  let partitionsQueried = 0;
  for (const day of days) {
    const found: DecisionRecord[] = [];
    await forEachBounded(partitionsOfDay(providers, day), options.concurrency, async ({ gsi1pk }) => {
      found.push(...(await readPartition(gsi1pk)));
      partitionsQueried++;
      options.onProgress?.({ partitionsQueried, partitionsTotal });
    });
    found.sort(byIndexOrder);
    yield* found;
  }
}
