/**
 * The records of a provider's health stream (`health#<key>`): the breaker's state and the
 * transitions it records. Plain data below every layer that stores, decides on or announces them
 * (the decider is src/provider-health/breaker.ts).
 */

export const BREAKER_STATUSES = ['closed', 'open', 'half_open'] as const;
export type BreakerStatus = (typeof BREAKER_STATUSES)[number];

/** `auto`: the breaker decides; `forced_*`: an operator decided, until set back to `auto`. */
export const BREAKER_MODES = ['auto', 'forced_open', 'forced_closed'] as const;
export type BreakerMode = (typeof BREAKER_MODES)[number];

export interface WindowBucket {
  /** Epoch ms of the bucket's start (a multiple of bucketMs). */
  readonly start: number;
  /** Attempts counted on the breaker item: failures, and the leased probe's successes. */
  readonly attempts: number;
  readonly failures: number;
  /**
   * Successes of the bucket counted off the breaker item (the success tally, sharded counters with
   * an unconditional ADD), as last read by a failure's commit. Absent: none read yet.
   */
  readonly tallied?: number;
}

/** The successes tallied in one event-time bucket of a breaker (the sum of its shards), as read. */
export interface TallyReading {
  /** Epoch ms of the bucket's start (a multiple of bucketMs). */
  readonly start: number;
  readonly successes: number;
}

export interface ProbeLease {
  /** The dispatchId of the probe job: its attempt signal releases the lease. */
  readonly dispatchId: string;
  readonly expiresAt: string;
}

/** What a transition says; recorded as-is (ProviderHealthChanged) and announced. */
export interface HealthTransition {
  readonly key: string;
  readonly provider: string;
  readonly model: string | null;
  /** 1, 2, …: the breaker's transition version (the record's version in `health#<key>`). */
  readonly version: number;
  readonly previousStatus: BreakerStatus;
  readonly status: BreakerStatus;
  readonly mode: BreakerMode;
  /** Machine-readable cause, e.g. `consecutive_failures`, `failure_rate`, `probe_failed`. */
  readonly reason: string;
  /** Human detail, e.g. "5 consecutive failures (server_error)". */
  readonly detail: string;
  readonly at: string;
  readonly openUntil: string | null;
  /** k: openings since the breaker last closed (drives the exponential back-off). */
  readonly openings: number;
  /** The signal that caused it: an attempt event id, or an operator's status event id. */
  readonly causedBy: string;
  readonly actor: string | null;
}

export interface BreakerState {
  readonly key: string;
  readonly provider: string;
  readonly model: string | null;
  readonly version: number;
  readonly status: BreakerStatus;
  readonly mode: BreakerMode;
  readonly since: string | null;
  readonly reason: string;
  readonly detail: string;
  readonly openUntil: string | null;
  readonly openings: number;
  readonly consecutiveFailures: number;
  readonly window: readonly WindowBucket[];
  readonly probeSuccesses: number;
  readonly probe: ProbeLease | null;
}
