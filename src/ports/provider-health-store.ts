/**
 * The provider-health store port: each breaker's working state (counters, window, probe lease)
 * shared by every router and signal-handler instance, with optimistic concurrency on a revision.
 * A commit is atomic: the signal's dedupe marker, the new state and the transitions it caused
 * (ProviderHealthChanged records in the routing log) are written together or not at all — so a
 * duplicate signal counts once and the log never disagrees with the state.
 *
 * Adapter: src/aws/dynamodb-provider-health-store.ts; in-memory twin:
 * src/memory/in-memory-provider-health-store.ts. Both pass tests/support/provider-health-contract.ts.
 */
import type { BreakerState, HealthTransition, TallyReading } from '../log/health-records.ts';

/** One success to tally: its breaker, its dedupe key, its event time and that time's bucket. */
export interface TallyEntry {
  readonly key: string;
  readonly signalId: string;
  readonly at: string;
  /** Epoch ms of the event-time bucket it counts in (`bucketStartOf` in src/provider-health/breaker.ts). */
  readonly bucketStart: number;
}

/** What a tally write found: the signal ids added, and those already counted (their marker existed). */
export interface TallyResult {
  readonly counted: readonly string[];
  readonly duplicates: readonly string[];
}

export interface BreakerRef {
  readonly provider: string;
  readonly model: string | null;
}

export interface StoredBreaker {
  readonly state: BreakerState;
  /** 0 when never written; every commit increments it. */
  readonly rev: number;
}

export interface BreakerCommit {
  /** The signal's event id (its dedupe key); null for a router's probe lease, which has none. */
  readonly signalId: string | null;
  /** Time of the signal: the dedupe marker expires a while after it. */
  readonly at: string;
  readonly expectedRev: number;
  readonly state: BreakerState;
  readonly transitions: readonly HealthTransition[];
}

/** `duplicate`: the signal was counted before (its marker exists); nothing was written. */
export type CommitResult = 'committed' | 'duplicate';

export interface ProviderHealthStore {
  /** The breaker as stored now (strongly consistent); the initial state at rev 0 when absent. */
  load(ref: BreakerRef): Promise<StoredBreaker>;
  /** Several breakers at once for a router (eventually consistent); absent ones are not in the map. */
  readMany(refs: readonly BreakerRef[]): Promise<Map<string, StoredBreaker>>;
  /**
   * Writes the change if the breaker is still at `expectedRev` (its expected version) and every
   * transition's version in `health#<key>` is free; otherwise throws VersionConflictError (the
   * append contract of every log here, src/ports/routing-log.ts).
   */
  commit(change: BreakerCommit): Promise<CommitResult>;
  /**
   * Adds successes to their breakers' tally (src/provider-health/success-tally.ts), each with its
   * dedupe marker, atomically per signal: a signal whose marker exists is a duplicate and adds
   * nothing; the same signal id twice in `entries` counts once. Never touches a breaker item.
   */
  tallySuccesses(entries: readonly TallyEntry[]): Promise<TallyResult>;
  /** The successes tallied in each of `bucketStarts` for breaker `key` (strongly consistent). */
  readTally(key: string, bucketStarts: readonly number[]): Promise<TallyReading[]>;
}
