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
 * Successes do not touch the breaker item (except the leased probe's): they go to the success
 * tally, event-time buckets of sharded counters (`attemptRoute`, src/provider-health/success-tally.ts).
 * A failure's commit reads the tally of the buckets since the previous failure and folds it in
 * (`SuccessesTallied`) before it counts itself: a success tallied since then resets the consecutive
 * count, and the window's attempts are the failures plus the tallied successes of each bucket.
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
  TallyReading,
  WindowBucket,
} from '../log/health-records.ts';

export type { TallyReading } from '../log/health-records.ts';

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
  /** Width of one window bucket: the window is kept as counts per bucket, never per attempt. */
  readonly bucketMs: number;
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
  bucketMs: 30_000,
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
   * The success tally of the buckets since the previous failure, read just before deciding (a
   * failure's command only; `tallyBucketsToRead` says which buckets). Absent: nothing read.
   */
  readonly tally?: readonly TallyReading[];
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

export type HealthCommand = RecordAttempt | ChangeMode | AcquireProbe;

export type HealthEvent =
  | {
      readonly type: 'AttemptCounted';
      readonly at: string;
      readonly result: 'success' | 'failure';
      readonly dispatchId: string | null;
    }
  | { readonly type: 'ProbeReleased'; readonly dispatchId: string }
  /** The success tally as a failure's commit read it: folded into the window before the failure counts. */
  | { readonly type: 'SuccessesTallied'; readonly at: string; readonly buckets: readonly TallyReading[] }
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
    window: [],
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
  }
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
    const afterHalfOpen = events.reduce((s, e) => evolveHealth(s, e, config), state);
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

  // Closed. A failure first folds in the successes tallied since the previous one (reset, window).
  const tallied: HealthEvent[] =
    failed && command.tally && command.tally.length > 0
      ? [{ type: 'SuccessesTallied', at: command.at, buckets: command.tally }]
      : [];
  const after = [...tallied, counted].reduce((s, e) => evolveHealth(s, e, config), state);
  if (!failed) return [counted];
  const cause = closedOpeningCause(after, command, config);
  return cause
    ? [...tallied, counted, opening(after, base, cause.reason, cause.detail, config)]
    : [...tallied, counted];
}

/**
 * Why a closed breaker opens on this failure, if it does: a run of consecutive failures first, else
 * the failure rate of its window (once the window has enough attempts to judge).
 */
function closedOpeningCause(
  after: BreakerState,
  command: RecordAttempt,
  config: BreakerConfig,
): { readonly reason: string; readonly detail: string } | null {
  if (after.consecutiveFailures >= config.consecutiveFailuresToOpen)
    return {
      reason: 'consecutive_failures',
      detail: `${after.consecutiveFailures} consecutive failures (${classText(command.errorClass)})`,
    };
  const { attempts, failures } = windowTotals(after.window, command.at, config);
  if (attempts >= config.windowMinAttempts && failures / attempts > config.windowFailureRatio)
    return {
      reason: 'failure_rate',
      detail: `${failures} of ${attempts} attempts failed in ${config.windowMs / 60_000} min`,
    };
  return null;
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

export function windowTotals(
  window: readonly WindowBucket[],
  at: string,
  config: BreakerConfig,
): { attempts: number; failures: number } {
  const from = Date.parse(at) - config.windowMs;
  let attempts = 0;
  let failures = 0;
  for (const bucket of window) {
    if (bucket.start + config.bucketMs <= from) continue;
    attempts += bucket.attempts + (bucket.tallied ?? 0);
    failures += bucket.failures;
  }
  return { attempts, failures };
}

// ------------------------------------------------------------------------------ evolve

export function evolveHealth(
  state: BreakerState,
  event: HealthEvent,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): BreakerState {
  switch (event.type) {
    case 'AttemptCounted': {
      const failed = event.result === 'failure';
      const releases = state.probe !== null && event.dispatchId === state.probe.dispatchId;
      return {
        ...state,
        consecutiveFailures: failed ? state.consecutiveFailures + 1 : 0,
        window: addToWindow(state.window, event.at, failed, config),
        probeSuccesses:
          effectiveStatus(state, event.at) === 'half_open' && !failed && releases
            ? state.probeSuccesses + 1
            : state.probeSuccesses,
        probe: releases ? null : state.probe,
      };
    }
    case 'ProbeReleased':
      return state.probe?.dispatchId === event.dispatchId ? { ...state, probe: null } : state;
    case 'SuccessesTallied':
      return foldTally(state, event.at, event.buckets, config);
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
    // Every change of state starts the evidence over: a reopened or closed breaker counts afresh.
    consecutiveFailures: leavesWindow ? 0 : state.consecutiveFailures,
    window: leavesWindow ? [] : state.window,
    probeSuccesses: 0,
    probe: t.status === 'half_open' ? state.probe : null,
  };
}

function addToWindow(
  window: readonly WindowBucket[],
  at: string,
  failed: boolean,
  config: BreakerConfig,
): WindowBucket[] {
  const time = Date.parse(at);
  const start = Math.floor(time / config.bucketMs) * config.bucketMs;
  // Bounded: only the buckets still inside the window are kept (windowMs / bucketMs + 1 at most).
  const kept = window.filter((bucket) => bucket.start + config.bucketMs > time - config.windowMs);
  const current = kept.find((bucket) => bucket.start === start);
  const others = kept.filter((bucket) => bucket.start !== start);
  const updated: WindowBucket = {
    ...current,
    start,
    attempts: (current?.attempts ?? 0) + 1,
    failures: (current?.failures ?? 0) + (failed ? 1 : 0),
  };
  return [...others, updated].sort((a, b) => a.start - b.start);
}

/** Applies a command: its events and the resulting state (what persistence stores). */
export function handleHealthCommand(
  state: BreakerState,
  command: HealthCommand,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): { events: HealthEvent[]; state: BreakerState } {
  const events = decideHealth(state, command, config);
  return { events, state: events.reduce((s, e) => evolveHealth(s, e, config), state) };
}

export const transitionsOf = (events: readonly HealthEvent[]): HealthTransition[] =>
  events.flatMap((e) => (e.type === 'ProviderHealthChanged' ? [e.transition] : []));

// ------------------------------------------------------------------------------ the success tally

/**
 * Where an attempt report goes: `tally` (the success tally's sharded counters, no commit on the
 * breaker item) or `breaker` (a commit conditional on the breaker's revision). Only a success that
 * is not the leased probe's goes to the tally: a success changes no state but the consecutive count
 * and the window, and both are folded from the tally when the next failure commits. The probe's
 * success stays on the breaker (it counts towards closing, and releases the lease); failures,
 * `unknown` outcomes and job-side failures take the breaker path as before (most change nothing).
 */
export function attemptRoute(state: BreakerState, command: RecordAttempt): 'tally' | 'breaker' {
  if (command.outcome !== 'succeeded') return 'breaker';
  const isProbe = state.probe !== null && command.dispatchId === state.probe.dispatchId;
  return isProbe ? 'breaker' : 'tally';
}

/** The event-time bucket (epoch ms of its start) an attempt at `at` is counted in. */
export const bucketStartOf = (at: string, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): number =>
  Math.floor(Date.parse(at) / config.bucketMs) * config.bucketMs;

/**
 * The buckets a failure at `at` reads from the tally before deciding: from the newest bucket the
 * breaker's window already holds (what the previous failure read: later successes may have joined
 * it) to the failure's own, never older than the window. An empty window reads the whole window.
 * Bounded: windowMs / bucketMs + 1 buckets at most. Nothing when the failure could not count
 * (breaker open, forced, or the failure not provider-side): its decision does not use the tally.
 */
export function tallyBucketsToRead(
  state: BreakerState,
  command: RecordAttempt,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): number[] {
  if (command.outcome === 'succeeded' || command.outcome === 'unknown') return [];
  if (!isCounted(command.errorClass) || state.mode !== 'auto') return [];
  if (effectiveStatus(state, command.at) !== 'closed') return [];
  const own = bucketStartOf(command.at, config);
  const oldest = own - Math.floor(config.windowMs / config.bucketMs) * config.bucketMs;
  const newestHeld = state.window.at(-1)?.start;
  const from = Math.max(oldest, newestHeld === undefined ? oldest : Math.min(newestHeld, own));
  const to = Math.max(own, newestHeld ?? own);
  const starts: number[] = [];
  for (let start = from; start <= to; start += config.bucketMs) starts.push(start);
  return starts;
}

/**
 * The breaker with the success tally read at `at` folded into its window, for a view (`health`, the
 * console): the window's attempts then count every tallied success, not only those the last
 * failure's commit folded in. Pure; the stored state is unchanged.
 */
export const withSuccessTally = (
  state: BreakerState,
  at: string,
  readings: readonly TallyReading[],
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): BreakerState => foldTally(state, at, readings, config);

/** Every bucket of the window as of `at` (windowMs / bucketMs + 1 of them), oldest first. */
export function windowBucketStarts(at: string, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): number[] {
  const own = bucketStartOf(at, config);
  const count = Math.floor(config.windowMs / config.bucketMs);
  return Array.from({ length: count + 1 }, (_, k) => own - (count - k) * config.bucketMs);
}

/**
 * Folds a tally reading into the window: a bucket's tallied successes only grow (a stale read never
 * lowers them), and any growth means a success arrived since the previous failure read, so the
 * consecutive count starts over. Buckets outside the window (as of `at`) are dropped.
 */
function foldTally(
  state: BreakerState,
  at: string,
  readings: readonly TallyReading[],
  config: BreakerConfig,
): BreakerState {
  const time = Date.parse(at);
  const inWindow = (start: number) => start + config.bucketMs > time - config.windowMs;
  const byStart = new Map(state.window.filter((b) => inWindow(b.start)).map((b) => [b.start, b]));
  let grew = false;
  for (const reading of readings) {
    if (!inWindow(reading.start)) continue;
    const bucket = byStart.get(reading.start) ?? { start: reading.start, attempts: 0, failures: 0 };
    const seen = bucket.tallied ?? 0;
    if (reading.successes > seen) grew = true;
    byStart.set(reading.start, { ...bucket, tallied: Math.max(seen, reading.successes) });
  }
  return {
    ...state,
    consecutiveFailures: grew ? 0 : state.consecutiveFailures,
    window: [...byStart.values()].sort((a, b) => a.start - b.start),
  };
}
