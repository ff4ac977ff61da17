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
import type { BreakerState, HealthTransition } from '../log/health-records.ts';

/** A success for the register: its breaker, its event time and its dedupe key (which picks a shard). */
export interface SuccessEntry {
  readonly key: string;
  readonly at: string;
  readonly signalId: string;
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

/** Signals one commit may carry (`commitSignals`): their markers, the breaker and ≤ 2 transitions each fit in one transaction of ≤ 100 items. */
export const MAX_SIGNALS_PER_COMMIT = 25;

/**
 * Several signals of one breaker decided together (a batch's, in arrival order), written as one
 * atomic commit: a dedupe marker per signal, the breaker's state after the last of them and every
 * transition they caused.
 */
export interface BreakerSignalsCommit extends Omit<BreakerCommit, 'signalId'> {
  /** 1 to MAX_SIGNALS_PER_COMMIT signals, each with its event time (its marker expires a while after it). */
  readonly signals: readonly { readonly signalId: string; readonly at: string }[];
}

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
   * `commit` for several signals at once: all of it, or — when some of the signals were counted
   * before (their markers exist) — nothing, and those signals are named (`duplicates`), so the
   * caller decides the others again without them. A moved breaker or a taken transition version
   * throws VersionConflictError, as `commit` does; when the breaker had moved, the error's
   * `existing` is the breaker as stored (a StoredBreaker), so the retry need not read it.
   */
  commitSignals(change: BreakerSignalsCommit): Promise<{ readonly duplicates: readonly string[] }>;
  /**
   * Each signal's dedupe marker, written if absent, and nothing else — no breaker, no revision, so
   * no contention: for signals whose decision changed nothing that lasts on their breaker (counted
   * failures a newer success of their batch broke: src/commands/record-health-signal.ts). Each
   * marker on its own; those that existed (counted before) are named and left as they were.
   */
  markSignals(signals: BreakerSignalsCommit['signals']): Promise<{ readonly duplicates: readonly string[] }>;
  /**
   * Raises each breaker's success register to the newest `at` of its entries (one write per breaker
   * whatever the number of successes, on one of its SUCCESS_REGISTER_SHARDS items, picked by the
   * newest entry's signal id): a max, so it is commutative and idempotent — a redelivered or
   * out-of-order success changes nothing it should not. Never touches a breaker item.
   */
  raiseSuccessRegisters(entries: readonly SuccessEntry[]): Promise<void>;
  /**
   * What a batch of signals decides on, in one strongly consistent read: the breakers of `refs`
   * (absent ones are not in the map, as in readMany) and the success register of each of
   * `registerKeys` (as readSuccessRegister: the newest success's event time, or null).
   */
  readForSignals(
    refs: readonly BreakerRef[],
    registerKeys: readonly string[],
  ): Promise<{
    readonly breakers: Map<string, StoredBreaker>;
    readonly registers: Map<string, string | null>;
  }>;
  /** Breaker `key`'s success register (strongly consistent, the max of its shards): the newest success's event time, or null. */
  readSuccessRegister(key: string): Promise<string | null>;
}
