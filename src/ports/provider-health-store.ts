/**
 * The provider-health store port: each breaker's working state (run, judged windows, probe lease)
 * shared by every router and signal-handler instance, appended to with the one append contract of
 * every log here (Emmett's `appendToStream`, src/ports/routing-log.ts). A breaker is a stream,
 * `health#<key>`, whose version is the breaker's revision; an append carries the signals a decision
 * counted, the transitions it caused (ProviderHealthChanged records, kept in the routing log) and the
 * state it left (src/log/breaker-records.ts), written together or not at all — so a signal counts
 * once and the log never disagrees with the state. A moved revision or a signal counted before is a
 * VersionConflictError carrying what the command decides again on (`BreakerConflict`); the command
 * handler is the only retry loop.
 *
 * Dedupe markers of signals that changed nothing that lasts are appended alone, with no expected
 * version (`ANY_VERSION`): the same call, the same all-or-nothing write and the same refusal.
 * The success register is not a stream: a max of event times, raised without a version (a
 * commutative, idempotent write needs no expected version and no dedupe), read with the breakers.
 *
 * Adapter: src/aws/dynamodb-provider-health-store.ts; in-memory twin:
 * src/memory/in-memory-provider-health-store.ts. Both pass tests/support/provider-health-contract.ts.
 */
import type { BreakerAppendOptions, BreakerRecord } from '../log/breaker-records.ts';
import type { BreakerState } from '../log/health-records.ts';

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
  /** The stream's version: 0 when never written; every append moves it by one. */
  readonly rev: number;
}

/**
 * Signals one append may count (a batch's decisions on a breaker are planned in runs of at most
 * this many): with the state and ≤ 2 transitions each, they fit one transaction of ≤ 100 items.
 */
export const MAX_SIGNALS_PER_APPEND = 25;

/**
 * What a refused append found (its VersionConflictError's `existing`), so the command decides again
 * without reading what the refusal already told: the breaker as stored when its revision had moved
 * (null when the store did not return it), and the append's signals that were counted before (their
 * dedupe markers exist) — decided again, those answer `duplicate`.
 */
export interface BreakerConflict {
  readonly breaker: StoredBreaker | null;
  readonly counted: readonly string[];
}

export interface ProviderHealthStore {
  /** The breaker as stored now (strongly consistent); the initial state at rev 0 when absent. */
  load(ref: BreakerRef): Promise<StoredBreaker>;
  /** Several breakers at once for a router (eventually consistent); absent ones are not in the map. */
  readMany(refs: readonly BreakerRef[]): Promise<Map<string, StoredBreaker>>;
  /**
   * Appends `records` to the breaker's stream `health#<key>` if its revision is still
   * `expectedVersion` (0: never written), its signals were never counted and each transition's
   * version is free in the log; returns the new revision. Otherwise nothing is written and it throws
   * VersionConflictError whose `existing` is a BreakerConflict. At most TRANSACT_WRITE_MAX_ITEMS
   * records, exactly one BreakerStateRecorded: InvalidAppendError otherwise.
   *
   * With `expectedVersion: ANY_VERSION` it takes HealthSignalCounted records only (no state, no
   * transition: InvalidAppendError otherwise) — the dedupe markers of signals whose decision changed
   * nothing that lasts on their breaker (counted failures a newer success of their batch broke:
   * src/commands/record-health-signal.ts). The revision is not checked and does not move (it
   * returns null), so such an append races no writer of the breaker; it is still all or nothing: a
   * signal counted before refuses it, nothing written, with a BreakerConflict naming exactly the
   * signals counted before (`breaker: null`). An append that later carries a marked signal is
   * refused naming it, as any signal counted before.
   */
  appendToStream(
    stream: string,
    records: readonly BreakerRecord[],
    options: BreakerAppendOptions,
  ): Promise<number | null>;
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
