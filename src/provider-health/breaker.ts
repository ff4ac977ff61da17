/**
 * The provider circuit breaker as a pure decider (Emmett style): `decideHealth(state, command)`
 * returns the events a command causes, `evolveHealth(state, event)` folds one event into the state.
 * No I/O, no clock, no randomness: time (`at`) and ids arrive in the commands and the jitter of an
 * open period is derived from the breaker key and the transition version, so replaying the same
 * commands — or the recorded transitions — rebuilds exactly the same state.
 *
 * One breaker per key: `<provider>` or `<provider>#<model>` (signals that name a model count
 * against that model; an operator may force either level). States:
 *
 *   closed ──(≥ 5 consecutive counted failures, or > 50 % of ≥ 10 attempts in 5 min)──► open
 *   open ──(openUntil passed)──► half_open (one probe at a time, leased)
 *   half_open ──(3 consecutive successes of leased probes)──► closed
 *   half_open ──(1 counted failure, probe or not)──► open
 *
 * Two rules open a closed breaker, fed differently:
 *   - the fast path, N consecutive counted failures: each counted failure is a commit on the breaker
 *     item (`RecordAttempt`), so the Nth opens it within its own invocation. Successes never touch
 *     the breaker item (except the leased probe's): a batch raises the breaker's success register,
 *     the newest event time of a success (`attemptRoute`); a failure reads the register first and,
 *     if it moved since the previous failure read it (`SuccessSeen`), the count starts over;
 *   - the failure-rate rule folds the closed signal windows (src/provider-health/signal-windows.ts:
 *     `b:a` attempts, `b:f` failures), never single signals: `JudgeWindows` judges each newly closed
 *     window once, in order, over the windows of the 5 minutes up to its end that began after the
 *     breaker's last transition. Its transitions depend on the windows and the state only, so the
 *     same signals, in any order or batching, rebuild the same transitions.
 *
 * An open period lasts max(current openUntil, at + 60 s · 2^k · (1 − jitter)), capped at 30 min,
 * where k counts the openings since the breaker last closed. Only provider-side failures count
 * (`COUNTED_ERROR_CLASSES`, and unclassified ones: see `errorClassKind`); `unknown` outcomes, the
 * job's own errors and failures without a class change nothing.
 */

import { fnv1a } from '../log/fnv1a.ts';
import type {
  BreakerMode,
  BreakerState,
  BreakerStatus,
  HealthTransition,
  ProbeLease,
} from '../log/health-records.ts';

export const ATTEMPT_OUTCOMES = ['succeeded', 'failed_terminal', 'failed_retryable', 'unknown'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** Provider-side failures: they say something about the provider's health, so they count. */
export const COUNTED_ERROR_CLASSES = ['server_error', 'timeout', 'throttled', 'auth'] as const;

/** The job's own failures (its input, its content): they say nothing about the provider, so they do not count. */
export const JOB_ERROR_CLASSES = [
  'invalid_request',
  'content_policy',
  'input_rejected',
  'cancelled',
] as const;

/**
 * How a failure's `errorClass` is taken: `counted` (provider-side), `job` (the job's fault), `none`
 * (no class given: not counted, as before), or `unclassified` — a class in neither list, most often
 * a consumer's typo (`server_eror`). The safe rule counts an unclassified failure as provider-side:
 * a breaker that opens too eagerly re-routes auto jobs to a fallback (explicit jobs never move, and
 * half-open probes close it again within minutes), while one that never opens — the cost of not
 * counting — keeps sending every auto job to a provider that fails them. The HealthSignals function
 * counts each (`UnclassifiedErrorClass`, alarmed) so the consumer fixes its class name.
 */
export type ErrorClassKind = 'counted' | 'job' | 'none' | 'unclassified';

export function errorClassKind(errorClass: string | null): ErrorClassKind {
  if (errorClass === null) return 'none';
  if ((COUNTED_ERROR_CLASSES as readonly string[]).includes(errorClass)) return 'counted';
  if ((JOB_ERROR_CLASSES as readonly string[]).includes(errorClass)) return 'job';
  return 'unclassified';
}

export interface BreakerConfig {
  /** Consecutive counted failures that open a closed breaker. */
  readonly consecutiveFailuresToOpen: number;
  /** Sliding window of the failure-rate rule. */
  readonly windowMs: number;
  /** Attempts the window needs before its failure rate is judged. */
  readonly windowMinAttempts: number;
  /** The window opens the breaker when failures / attempts is strictly above this. */
  readonly windowFailureRatio: number;
  /** First open period; doubled at each re-opening without a close in between. */
  readonly baseOpenMs: number;
  readonly maxOpenMs: number;
  /** Up to this share of an open period is taken off, spread by a hash (no thundering herd). */
  readonly jitterRatio: number;
  /** Consecutive successes of leased probes in half-open that close the breaker (other traffic never does). */
  readonly successesToClose: number;
  /** A probe lease expires after the provider's job timeout, so a lost probe cannot stick. */
  readonly probeLeaseMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  consecutiveFailuresToOpen: 5,
  windowMs: 5 * 60_000,
  windowMinAttempts: 10,
  windowFailureRatio: 0.5,
  baseOpenMs: 60_000,
  maxOpenMs: 30 * 60_000,
  jitterRatio: 0.2,
  successesToClose: 3,
  probeLeaseMs: 15 * 60_000,
};

// ------------------------------------------------------------------------------ commands, events

export interface RecordAttempt {
  readonly type: 'RecordAttempt';
  /** The EventBridge event id of the signal. */
  readonly signalId: string;
  readonly at: string;
  readonly outcome: AttemptOutcome;
  readonly errorClass: string | null;
  readonly dispatchId: string | null;
  /**
   * The breaker's success register, read just before deciding (a failure's command only, when
   * `readsSuccessRegister`): the newest event time of a success reported, null if none. Absent: not read.
   */
  readonly lastSuccessAt?: string | null;
}

/** What the failure-rate rule reads of one closed signal window (`breakerEvidenceOf`). */
export interface WindowEvidence {
  /** The window's id (stable facts: pair and start), what a transition it causes names as its cause. */
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Attempts that count for the breaker (successes and provider-side failures) and the failures among them. */
  readonly attempts: number;
  readonly failures: number;
}

/** A closer asks the breaker to judge the closed signal windows of its pair (those not judged yet). */
export interface JudgeWindows {
  readonly type: 'JudgeWindows';
  /** The pair's closed windows, in any order: the newest SUMMARY_WINDOWS a summary keeps. */
  readonly windows: readonly WindowEvidence[];
}

export interface ChangeMode {
  readonly type: 'ChangeMode';
  readonly signalId: string;
  readonly at: string;
  readonly mode: BreakerMode;
  readonly actor: string;
  readonly reason: string;
}

/** The router asks to send one job as the half-open probe. */
export interface AcquireProbe {
  readonly type: 'AcquireProbe';
  readonly at: string;
  readonly dispatchId: string;
}

export type HealthCommand = RecordAttempt | ChangeMode | AcquireProbe | JudgeWindows;

export type HealthEvent =
  | {
      readonly type: 'AttemptCounted';
      readonly at: string;
      readonly result: 'success' | 'failure';
      readonly dispatchId: string | null;
    }
  | { readonly type: 'ProbeReleased'; readonly dispatchId: string }
  /** The success register moved since the previous failure read it: the consecutive count starts over. */
  | { readonly type: 'SuccessSeen'; readonly lastSuccessAt: string }
  /** A closed signal window judged by the failure-rate rule (each once, in order). */
  | { readonly type: 'WindowJudged'; readonly startMs: number }
  | { readonly type: 'ProbeLeased'; readonly lease: ProbeLease }
  | { readonly type: 'ProviderHealthChanged'; readonly transition: HealthTransition };

// ------------------------------------------------------------------------------ keys, views

export const breakerKey = (provider: string, model?: string | null): string =>
  model ? `${provider}#${model}` : provider;

export function initialBreakerState(provider: string, model: string | null = null): BreakerState {
  return {
    key: breakerKey(provider, model),
    provider,
    model,
    version: 0,
    status: 'closed',
    mode: 'auto',
    since: null,
    reason: 'initial',
    detail: 'no transition recorded',
    openUntil: null,
    openings: 0,
    consecutiveFailures: 0,
    successSeenAt: null,
    windowsJudgedThrough: null,
    probeSuccesses: 0,
    probe: null,
  };
}

/** What a router acts on at `now`: an open breaker whose period has passed admits a probe. */
export type EffectiveHealth = 'healthy' | 'unhealthy' | 'probe';

export function effectiveStatus(
  state: Pick<BreakerState, 'status' | 'mode' | 'openUntil'>,
  now: string,
): BreakerStatus {
  if (state.mode === 'forced_open') return 'open';
  if (state.mode === 'forced_closed') return 'closed';
  if (state.status === 'open' && state.openUntil !== null && now >= state.openUntil) return 'half_open';
  return state.status;
}

export function effectiveHealth(
  state: Pick<BreakerState, 'status' | 'mode' | 'openUntil' | 'probe'>,
  now: string,
): EffectiveHealth {
  const status = effectiveStatus(state, now);
  if (status === 'closed') return 'healthy';
  if (status === 'open') return 'unhealthy';
  return probeAvailable(state.probe, now) ? 'probe' : 'unhealthy';
}

const probeAvailable = (probe: ProbeLease | null, now: string): boolean =>
  probe === null || now >= probe.expiresAt;

// ------------------------------------------------------------------------------ decide

/**
 * A provider-side failure: it counts against the breaker, and only it moves a job elsewhere. An
 * unclassified class counts as one — the safe rule (`errorClassKind`).
 */
export const isProviderSideFailure = (errorClass: string | null): boolean => {
  const kind = errorClassKind(errorClass);
  return kind === 'counted' || kind === 'unclassified';
};
const isCounted = isProviderSideFailure;

/** The class as a transition's detail shows it: an unclassified one says so. */
const classText = (errorClass: string | null): string =>
  errorClassKind(errorClass) === 'unclassified' ? `unclassified ${errorClass}` : String(errorClass);

export function decideHealth(
  state: BreakerState,
  command: HealthCommand,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): HealthEvent[] {
  switch (command.type) {
    case 'ChangeMode':
      return decideMode(state, command);
    case 'AcquireProbe':
      if (state.mode !== 'auto' || effectiveStatus(state, command.at) !== 'half_open') return [];
      if (!probeAvailable(state.probe, command.at)) return [];
      return [
        {
          type: 'ProbeLeased',
          lease: { dispatchId: command.dispatchId, expiresAt: addMs(command.at, config.probeLeaseMs) },
        },
      ];
    case 'RecordAttempt':
      return decideAttempt(state, command, config);
    case 'JudgeWindows':
      return judgeWindows(state, command, config);
  }
}

/**
 * The failure-rate rule over closed signal windows: each window newer than the last judged, oldest
 * first, is judged at its end over the windows of the rule's span (windowMs up to its end) that
 * began at or after the breaker's last transition — evidence from before a change of state never
 * counts again. Only a closed breaker in `auto` mode opens; every judged window is recorded
 * (`WindowJudged`), so it is judged once. Pure: the same windows and state give the same events.
 */
function judgeWindows(state: BreakerState, command: JudgeWindows, config: BreakerConfig): HealthEvent[] {
  const judged = state.windowsJudgedThrough ?? Number.NEGATIVE_INFINITY;
  const windows = [...command.windows].sort((a, b) => a.startMs - b.startMs);
  const events: HealthEvent[] = [];
  let current = state;
  for (const window of windows) {
    if (window.startMs <= judged) continue;
    const at = new Date(window.endMs).toISOString();
    if (current.mode === 'auto' && effectiveStatus(current, at) === 'closed') {
      const { attempts, failures } = windowTotals(windows, at, current.since, config);
      if (attempts >= config.windowMinAttempts && failures / attempts > config.windowFailureRatio) {
        const opened = opening(
          current,
          { causedBy: window.id, actor: null, at },
          'failure_rate',
          `${failures} of ${attempts} attempts failed in ${config.windowMs / 60_000} min`,
          config,
        );
        events.push(opened);
        current = evolveHealth(current, opened);
      }
    }
    const marked: HealthEvent = { type: 'WindowJudged', startMs: window.startMs };
    events.push(marked);
    current = evolveHealth(current, marked);
  }
  return events;
}

/**
 * Where an operator's mode change leaves the breaker. Forcing it open keeps its count of openings;
 * forcing it closed or handing it back to auto starts it over closed, and the signals reopen it if
 * the outage lasts.
 */
const MODE_CHANGES: Readonly<
  Record<
    BreakerMode,
    { readonly status: BreakerStatus; readonly reason: string; readonly keepsOpenings: boolean }
  >
> = {
  forced_open: { status: 'open', reason: 'operator_forced_open', keepsOpenings: true },
  forced_closed: { status: 'closed', reason: 'operator_forced_closed', keepsOpenings: false },
  auto: { status: 'closed', reason: 'operator_auto', keepsOpenings: false },
};

function decideMode(state: BreakerState, command: ChangeMode): HealthEvent[] {
  if (command.mode === state.mode) return [];
  const change = MODE_CHANGES[command.mode];
  return [
    transition(state, {
      causedBy: command.signalId,
      actor: command.actor,
      at: command.at,
      status: change.status,
      mode: command.mode,
      reason: change.reason,
      detail: command.reason,
      openUntil: null,
      openings: change.keepsOpenings ? state.openings : 0,
    }),
  ];
}

function decideAttempt(state: BreakerState, command: RecordAttempt, config: BreakerConfig): HealthEvent[] {
  if (command.outcome === 'unknown') return releaseOnly(state, command);
  const failed = command.outcome !== 'succeeded';
  if (failed && !isCounted(command.errorClass)) return releaseOnly(state, command);
  const counted: HealthEvent = {
    type: 'AttemptCounted',
    at: command.at,
    result: failed ? 'failure' : 'success',
    dispatchId: command.dispatchId,
  };
  const base = { causedBy: command.signalId, actor: null, at: command.at };
  // Forced modes: the operator decides; the counters still follow the signals for `health`.
  if (state.mode !== 'auto') return [counted];

  const status = effectiveStatus(state, command.at);
  if (status === 'open') return []; // late signals of jobs sent before the opening say nothing new
  if (status === 'half_open') {
    const events: HealthEvent[] = [];
    if (state.status === 'open') {
      events.push(
        transition(state, {
          ...base,
          status: 'half_open',
          mode: 'auto',
          reason: 'open_period_elapsed',
          detail: `open until ${state.openUntil}`,
          openUntil: state.openUntil,
          openings: state.openings,
        }),
      );
    }
    const afterHalfOpen = events.reduce((s, e) => evolveHealth(s, e), state);
    events.push(counted);
    // Only the leased probe's outcome is evidence for closing: a success of other traffic (an
    // explicit job, a late report of a job sent before the opening) is counted, never closes.
    // The probe's report releases its lease, so a repeated copy of it is no probe any more.
    const isProbe = afterHalfOpen.probe !== null && command.dispatchId === afterHalfOpen.probe.dispatchId;
    if (!failed && !isProbe) return events;
    const successes = failed ? 0 : afterHalfOpen.probeSuccesses + 1;
    if (failed) {
      events.push(
        opening(
          afterHalfOpen,
          base,
          'probe_failed',
          `probe failed (${classText(command.errorClass)})`,
          config,
        ),
      );
    } else if (successes >= config.successesToClose) {
      events.push(
        transition(afterHalfOpen, {
          ...base,
          status: 'closed',
          mode: 'auto',
          reason: 'probes_succeeded',
          detail: `${successes} consecutive successes`,
          openUntil: null,
          openings: 0,
        }),
      );
    }
    return events;
  }

  // Closed. A failure first takes in the success register: a success since the previous failure
  // starts the count over. The failure-rate rule is not judged here: it folds closed windows.
  const seen =
    failed &&
    command.lastSuccessAt != null &&
    (state.successSeenAt == null || command.lastSuccessAt > state.successSeenAt)
      ? [{ type: 'SuccessSeen', lastSuccessAt: command.lastSuccessAt } as const]
      : [];
  const after = [...seen, counted].reduce((s, e) => evolveHealth(s, e), state);
  if (!failed) return [counted];
  if (after.consecutiveFailures >= config.consecutiveFailuresToOpen) {
    return [
      ...seen,
      counted,
      opening(
        after,
        base,
        'consecutive_failures',
        `${after.consecutiveFailures} consecutive failures (${classText(command.errorClass)})`,
        config,
      ),
    ];
  }
  return [...seen, counted];
}

function releaseOnly(state: BreakerState, command: RecordAttempt): HealthEvent[] {
  return state.probe && command.dispatchId === state.probe.dispatchId
    ? [{ type: 'ProbeReleased', dispatchId: command.dispatchId }]
    : [];
}

type TransitionFacts = Omit<HealthTransition, 'key' | 'provider' | 'model' | 'version' | 'previousStatus'>;

function transition(state: BreakerState, facts: TransitionFacts): HealthEvent {
  return {
    type: 'ProviderHealthChanged',
    transition: {
      key: state.key,
      provider: state.provider,
      model: state.model,
      version: state.version + 1,
      previousStatus: state.status,
      ...facts,
    },
  };
}

function opening(
  state: BreakerState,
  base: { causedBy: string; actor: null; at: string },
  reason: string,
  detail: string,
  config: BreakerConfig,
): HealthEvent {
  const openFor = openPeriodMs(state.key, state.version + 1, state.openings, config);
  const candidate = addMs(base.at, openFor);
  // Never shorten a deadline already set (a re-opening keeps the later of the two).
  const openUntil = state.openUntil !== null && state.openUntil > candidate ? state.openUntil : candidate;
  return transition(state, {
    ...base,
    status: 'open',
    mode: 'auto',
    reason,
    detail,
    openUntil,
    openings: state.openings + 1,
  });
}

/** 60 s · 2^k capped at 30 min, minus a jitter share derived from (key, version): replayable. */
export function openPeriodMs(key: string, version: number, openings: number, config: BreakerConfig): number {
  const period = Math.min(config.maxOpenMs, config.baseOpenMs * 2 ** Math.min(openings, 30));
  const spread = fnv1a(`${key}#${version}`) / 0x1_0000_0000;
  return Math.round(period * (1 - config.jitterRatio * spread));
}

const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

/**
 * The failure-rate evidence as of `at`: attempts and failures of the windows ending within the
 * rule's span before it that began at or after `since` (the breaker's last transition) — what
 * `JudgeWindows` weighs, and what a view shows.
 */
export function windowTotals(
  windows: readonly WindowEvidence[],
  at: string,
  since: string | null,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): { attempts: number; failures: number } {
  const time = Date.parse(at);
  const from = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
  let attempts = 0;
  let failures = 0;
  for (const window of windows) {
    if (window.endMs > time || window.endMs <= time - config.windowMs || window.startMs < from) continue;
    attempts += window.attempts;
    failures += window.failures;
  }
  return { attempts, failures };
}

// ------------------------------------------------------------------------------ evolve

export function evolveHealth(state: BreakerState, event: HealthEvent): BreakerState {
  switch (event.type) {
    case 'AttemptCounted': {
      const failed = event.result === 'failure';
      const releases = state.probe !== null && event.dispatchId === state.probe.dispatchId;
      return {
        ...state,
        consecutiveFailures: failed ? state.consecutiveFailures + 1 : 0,
        probeSuccesses:
          effectiveStatus(state, event.at) === 'half_open' && !failed && releases
            ? state.probeSuccesses + 1
            : state.probeSuccesses,
        probe: releases ? null : state.probe,
      };
    }
    case 'ProbeReleased':
      return state.probe?.dispatchId === event.dispatchId ? { ...state, probe: null } : state;
    case 'SuccessSeen':
      return { ...state, consecutiveFailures: 0, successSeenAt: event.lastSuccessAt };
    case 'WindowJudged':
      return { ...state, windowsJudgedThrough: event.startMs };
    case 'ProbeLeased':
      return { ...state, probe: event.lease };
    case 'ProviderHealthChanged':
      return applyTransition(state, event.transition);
  }
}

/** Folds one recorded transition; also how a reader rebuilds the health view from the log alone. */
export function applyTransition(state: BreakerState, t: HealthTransition): BreakerState {
  const leavesWindow = t.status !== state.status || t.mode !== state.mode;
  return {
    ...state,
    version: t.version,
    status: t.status,
    mode: t.mode,
    since: t.at,
    reason: t.reason,
    detail: t.detail,
    openUntil: t.openUntil,
    openings: t.openings,
    // Every change of state starts the evidence over: a reopened or closed breaker counts afresh
    // (the failure-rate rule, likewise, weighs only windows that began after the transition).
    consecutiveFailures: leavesWindow ? 0 : state.consecutiveFailures,
    probeSuccesses: 0,
    probe: t.status === 'half_open' ? state.probe : null,
  };
}

/** Applies a command: its events and the resulting state (what persistence stores). */
export function handleHealthCommand(
  state: BreakerState,
  command: HealthCommand,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): { events: HealthEvent[]; state: BreakerState } {
  const events = decideHealth(state, command, config);
  return { events, state: events.reduce((s, e) => evolveHealth(s, e), state) };
}

export const transitionsOf = (events: readonly HealthEvent[]): HealthTransition[] =>
  events.flatMap((e) => (e.type === 'ProviderHealthChanged' ? [e.transition] : []));

// ------------------------------------------------------------------------------ the success register

/**
 * Items a breaker's success register is spread over: each write (one per breaker and batch, or per
 * success when signals come one per call) goes to one, a reader takes the max of all. An item takes
 * ≤ 1,000 writes/s, so 16 take 16,000 successes/s per breaker one per call (docs/SCALE.md).
 */
export const SUCCESS_REGISTER_SHARDS = 16;

/** The register shard a write goes to: a hash of the newest success's dedupe key. */
export const successRegisterShard = (signalId: string): number => fnv1a(signalId) % SUCCESS_REGISTER_SHARDS;

/**
 * Each breaker's newest success among `entries`, one per breaker: what a batch writes to its
 * register (the same signal always picks the same shard).
 */
export function newestSuccesses<T extends { key: string; at: string; signalId: string }>(
  entries: readonly T[],
): T[] {
  const newest = new Map<string, T>();
  for (const entry of entries) {
    const held = newest.get(entry.key);
    if (!held || entry.at > held.at || (entry.at === held.at && entry.signalId < held.signalId)) {
      newest.set(entry.key, entry);
    }
  }
  return [...newest.values()];
}

/**
 * Where an attempt report goes: `register` (the breaker's success register: no commit on the
 * breaker item) or `breaker` (a commit conditional on the breaker's revision). Only a success that
 * is not the leased probe's goes to the register: a success changes no state but the consecutive
 * count, and that is taken from the register when the next failure commits. The probe's success
 * stays on the breaker (it counts towards closing, and releases the lease); failures, `unknown`
 * outcomes and job-side failures take the breaker path as before (most change nothing).
 */
export function attemptRoute(state: BreakerState, command: RecordAttempt): 'register' | 'breaker' {
  if (command.outcome !== 'succeeded') return 'breaker';
  const isProbe = state.probe !== null && command.dispatchId === state.probe.dispatchId;
  return isProbe ? 'breaker' : 'register';
}

/**
 * Whether a failure's decision reads the success register: only a failure that can count on a
 * closed breaker in `auto` mode (open, forced or a job-side failure: the register changes nothing).
 */
export function readsSuccessRegister(state: BreakerState, command: RecordAttempt): boolean {
  if (command.outcome === 'succeeded' || command.outcome === 'unknown') return false;
  if (!isCounted(command.errorClass) || state.mode !== 'auto') return false;
  return effectiveStatus(state, command.at) === 'closed';
}
