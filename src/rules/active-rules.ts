/**
 * The rules the router uses right now: the active table, and the shadow and canary candidates if
 * any, read from the latest rules record through a short cache.
 *
 * Reading is one Query per cache period per Lambda instance (the record is parsed only when its
 * version changed). When the read fails the router keeps deciding — with the last version it knew,
 * or the bundled default if it never knew one — and every such decision records which (`rulesRead`
 * in its explanation), so an audit can tell a degraded decision from a normal one.
 */
import { createHash } from 'node:crypto';
import {
  initialRulesState,
  RULES_STREAM,
  type RulesState,
  rulesStateOf,
  tableOf,
} from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';
import type { RoutingTable } from '../routing/routing-table.ts';

/** published: the latest record · default: none was ever published · stale/fallback: the read failed. */
export type RulesSource = 'published' | 'default' | 'stale' | 'fallback';

export interface ActiveRules {
  readonly table: RoutingTable;
  readonly shadow: RoutingTable | null;
  readonly canary: { readonly table: RoutingTable; readonly percent: number } | null;
  readonly source: RulesSource;
  /** Version of the rules record in force; null for the bundled default. */
  readonly recordVersion: number | null;
}

export interface RulesReader {
  current(): Promise<ActiveRules>;
}

/**
 * The rules in force in a state of the rules stream (its fold; version 0: none published, the
 * bundled default decides). Throws CorruptRulesRecordError.
 */
export function activeRulesOf(rules: RulesState, defaultTable: RoutingTable): ActiveRules {
  if (rules.version === 0) {
    return { table: defaultTable, shadow: null, canary: null, source: 'default', recordVersion: null };
  }
  return {
    table: rules.active ? tableOf(rules.active, rules) : defaultTable,
    shadow: rules.shadow ? tableOf(rules.shadow, rules) : null,
    canary: rules.canary ? { table: tableOf(rules.canary, rules), percent: rules.canary.percent } : null,
    source: 'published',
    recordVersion: rules.version,
  };
}

/** Always the same rules: a fixed table (tests, tools) with no candidates. */
export const fixedRules = (table: RoutingTable): RulesReader => ({
  current: async () => ({ table, shadow: null, canary: null, source: 'default', recordVersion: null }),
});

export interface CachedRulesOptions {
  readonly defaultTable: RoutingTable;
  /** How long a read is trusted (default 10 s): a publication reaches every router within it. */
  readonly ttlMs?: number;
  /** After a failed read, how long to wait before trying again (default 1 s). */
  readonly retryAfterFailureMs?: number;
  /** Milliseconds of a monotonic-enough clock (Date.now in production). */
  readonly now: () => number;
  /** Told about each failed read (logged and counted by the handler). */
  readonly onReadFailure?: (error: unknown, using: RulesSource) => void;
}

export const DEFAULT_RULES_TTL_MS = 10_000;

export class CachedActiveRules implements RulesReader {
  readonly #log: RulesLog;
  readonly #options: CachedRulesOptions;
  /** The rules of the last successful read. */
  #lastGood: ActiveRules | null = null;
  /** What current() answers until #validUntil (the last good read, or a degraded stand-in). */
  #served: ActiveRules | null = null;
  #validUntil = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<ActiveRules> | null = null;

  constructor(log: RulesLog, options: CachedRulesOptions) {
    this.#log = log;
    this.#options = options;
  }

  async current(): Promise<ActiveRules> {
    if (this.#served && this.#options.now() < this.#validUntil) return this.#served;
    // One read at a time: concurrent decisions of one instance share it.
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #refresh(): Promise<ActiveRules> {
    const { now, ttlMs = DEFAULT_RULES_TTL_MS, retryAfterFailureMs = 1_000, defaultTable } = this.#options;
    let served: ActiveRules;
    try {
      const latest = await this.#log.latest(RULES_STREAM);
      const last = this.#lastGood;
      // The latest record alone folds into the state in force: each record carries all of it.
      // Parse and re-validate the tables only when the rules changed.
      served =
        last !== null && last.recordVersion === (latest?.metadata.version ?? null)
          ? last
          : activeRulesOf(rulesStateOf(latest ? [latest] : []), defaultTable);
      this.#lastGood = served;
      this.#validUntil = now() + ttlMs;
    } catch (error) {
      served = this.#lastGood
        ? { ...this.#lastGood, source: 'stale' }
        : { ...activeRulesOf(initialRulesState, defaultTable), source: 'fallback' };
      this.#options.onReadFailure?.(error, served.source);
      this.#validUntil = now() + retryAfterFailureMs;
    }
    this.#served = served;
    return served;
  }
}

/** Canary buckets: 0–9999 from a hash of the jobId, the same for a job on every read and replay. */
export const CANARY_BUCKETS = 10_000;

export function canaryBucket(jobId: string): number {
  return createHash('sha256').update(`canary:${jobId}`).digest().readUInt32BE(0) % CANARY_BUCKETS;
}

/** Whether a bucket falls under the canary's share (percent may have two decimals). */
export const inCanary = (bucket: number, percent: number): boolean =>
  bucket < Math.round(percent * (CANARY_BUCKETS / 100));
