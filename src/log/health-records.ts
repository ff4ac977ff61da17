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

/** A counted failure of the breaker's arrived run (the fast path), in event time. */
export interface RunMark {
  readonly at: string;
  /** The signal's dedupe key: what an opening it completes names as its cause. */
  readonly key: string;
  readonly errorClass: string | null;
}

/**
 * The fast path's opening, awaiting its windows: routers treat the breaker as open until
 * `openUntil`; the fold over the closed windows records the transition (or withdraws this).
 * Never a record of the health stream itself.
 */
export interface ProvisionalOpening {
  readonly at: string;
  readonly causedBy: string;
  readonly detail: string;
  readonly openUntil: string;
  /** The transition version it would be recorded at. */
  readonly version: number;
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
  /**
   * The breaker's success register (the newest event time of a success reported) as the last
   * counted failure read it: a register that moved since means a success arrived in between, so the
   * consecutive count starts over. Absent or null: none read yet.
   */
  readonly successSeenAt?: string | null;
  /**
   * The start (epoch ms) of the newest closed signal window the failure-rate rule has judged
   * (`JudgeWindows`): each window is judged once, in order. Absent: none yet.
   */
  readonly windowsJudgedThrough?: number | null;
  /** The fast path's arrived run (`RunMark`s, event-time order); absent in states stored before it. */
  readonly run?: readonly RunMark[];
  /** The consecutive run the fold carries past the windows judged so far. */
  readonly runCarried?: number;
  /** The fast path's opening awaiting its windows; null or absent: none. */
  readonly provisional?: ProvisionalOpening | null;
  readonly probeSuccesses: number;
  readonly probe: ProbeLease | null;
}
