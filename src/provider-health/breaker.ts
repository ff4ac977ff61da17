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
 * Two rules open a closed breaker in `auto` mode. Both are defined in **event time** over the
 * breaker's counted evidence — its successes and provider-side failures, ordered by the signal's
 * `ts` (its EventBridge `time`), ties broken by the dedupe key — and both count only the windows that
 * began at or after the breaker's last transition (`since`):
 *   - consecutive failures: the breaker opens at the first counted failure p that ends a run of N
 *     (5) counted failures with no counted success between them. The transition is at p's time,
 *     caused by p's dedupe key, its detail names p's class;
 *   - failure rate: at the end of a closed window, > 50 % of ≥ 10 attempts over the windows of the
 *     5 minutes up to it (caused by the window's id).
 * The authority for both is the fold over closed signal windows (`JudgeWindows`): each closed
 * window carries a run summary of its evidence (`WindowRun`: leading and trailing failures, whether
 * it had a success, the failures where runs reach 1…RUN_POINTS), so folding windows in order with a
 * carried run gives the exact event-time count. Every input of the fold is a function of the set
 * of signals the windows hold, so the same signals in any order, batching or redelivery write
 * identical transition records.
 *
 * The fast path is an early trigger on the breaker item: each counted failure is an append there and
 * keeps the breaker's arrived run (`run`: failures after the newest success the success register
 * knows, in event time). When it reaches N, a signal its windows will hold (`windowed`: in time)
 * opens the breaker **provisionally** — routers see it open at once (`effectiveStatus`) — and the
 * fold over its closed windows writes the transition, or withdraws the provisional opening if the
 * windows show the run broken (a success that arrived after the trigger but inside the run, or an
 * earlier failure that moves the opening point). So live and replay agree: the record always
 * comes from the windows. A signal its windows refuse as late (or with no windows kept) can never be
 * folded: the fast path decides it alone, at once, on the evidence arrived (arrival-dependent, as
 * such a signal is everywhere).
 *
 * What is not a function of the signals alone: transitions out of an open breaker (the open period
 * ends at a derived time, but half-open follows the leased probes, and its first counted failure of
 * any traffic reopens it as it arrives) and operator modes. They are recorded as they happen.
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
  ProvisionalOpening,
  RunMark,
} from '../log/health-records.ts';
import { windowStartOf } from './window-time.ts';

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
  /**
   * True when the signal is counted in a signal window that will close and be judged (it arrived
   * before its window was due): an opening it triggers is provisional, the fold records it. Absent
   * or false: no window will ever hold it, so the fast path records its decision at once.
   */
  readonly windowed?: boolean;
}

/** Counted failures of a window a summary keeps by position (leading run, runs reaching n): N ≤ this. */
export const RUN_POINTS = 5;

/** One counted failure in event time: what an opening by the consecutive rule names. */
export interface RunPoint {
  readonly atMs: number;
  /** The signal's dedupe key. */
  readonly key: string;
  readonly errorClass: string | null;
}

/**
 * A closed window's counted evidence in event-time order (ts, then key), summarised so that folding
 * windows in order gives the exact consecutive count across them (`summariseRun`).
 */
export interface WindowRun {
  /** Counted failures before the window's first counted success (all of them when it has none). */
  readonly lead: number;
  /** Counted failures after its last counted success (all of them when it has none). */
  readonly trail: number;
  /** Whether the window holds a counted success. */
  readonly successes: boolean;
  /** The first RUN_POINTS failures of the leading run, in order. */
  readonly leading: readonly RunPoint[];
  /** `reaching[n-1]`: the failure at which a run that follows a success first reaches n (n ≤ RUN_POINTS). */
  readonly reaching: readonly (RunPoint | null)[];
}

/** One counted signal of a window, as the run summary reads it. */
export interface RunEvidence extends RunPoint {
  readonly failed: boolean;
}

/** The run summary of a window's counted evidence (any order in; each key once). Pure. */
export function summariseRun(evidence: readonly RunEvidence[]): WindowRun {
  const ordered = [...new Map(evidence.map((e) => [e.key, e])).values()].sort(byEventTime);
  const leading: RunPoint[] = [];
  const reaching: (RunPoint | null)[] = Array.from({ length: RUN_POINTS }, () => null);
  let lead = 0;
  let trail = 0;
  let successes = false;
  for (const e of ordered) {
    if (!e.failed) {
      successes = true;
      trail = 0;
      continue;
    }
    trail++;
    const point = { atMs: e.atMs, key: e.key, errorClass: e.errorClass };
    if (!successes) {
      lead++;
      if (leading.length < RUN_POINTS) leading.push(point);
    } else if (trail <= RUN_POINTS && reaching[trail - 1] === null) {
      reaching[trail - 1] = point;
    }
  }
  return { lead, trail, successes, leading, reaching };
}

/** Event-time order of the evidence: ts, then the dedupe key (a stable fact). */
const byEventTime = (a: { atMs: number; key: string }, b: { atMs: number; key: string }): number =>
  a.atMs - b.atMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The consecutive rule on one window, given the run carried in from the windows before it: the
 * failure that completes N in a row, or null. The leading run continues the carried one; any other
 * run starts after a success.
 */
export function consecutiveOpeningIn(run: WindowRun, carried: number, n: number): RunPoint | null {
  if (carried + run.lead >= n) return run.leading[n - carried - 1] ?? null;
  return run.reaching[n - 1] ?? null;
}

/** The run carried out of a window: its trailing failures, or the carried run grown by all of them. */
export const carriedAfter = (run: WindowRun, carried: number): number =>
  run.successes ? run.trail : carried + run.lead;

/** What the failure-rate rule reads of one closed signal window (`breakerEvidenceOf`). */
export interface WindowEvidence {
  /** The window's id (stable facts: pair and start), what a transition it causes names as its cause. */
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Attempts that count for the breaker (successes and provider-side failures) and the failures among them. */
  readonly attempts: number;
  readonly failures: number;
  /** The window's counted evidence in event-time order, summarised (absent: an older record, no run known). */
  readonly run?: WindowRun;
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
      /** The signal's dedupe key and class: a failure joins the breaker's run under them. */
      readonly signalId?: string;
      readonly errorClass?: string | null;
    }
  | { readonly type: 'ProbeReleased'; readonly dispatchId: string }
  /** The success register moved since the previous failure read it: failures before it leave the run. */
  | { readonly type: 'SuccessSeen'; readonly lastSuccessAt: string }
  /** A closed signal window judged by the fold (each once, in order). */
  | { readonly type: 'WindowJudged'; readonly startMs: number }
  /** The consecutive run the fold carries past a judged window (its trailing counted failures). */
  | { readonly type: 'RunCarried'; readonly carried: number }
  /** The fast path saw N in a row: open at once for routers, recorded once the windows confirm it. */
  | { readonly type: 'ProvisionalOpened'; readonly provisional: ProvisionalOpening }
  /** The windows through the provisional opening's point were judged and did not open: withdrawn. */
  | { readonly type: 'ProvisionalWithdrawn'; readonly provisional: ProvisionalOpening }
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
    run: [],
    runCarried: 0,
    provisional: null,
    probeSuccesses: 0,
    probe: null,
  };
}

/** What a router acts on at `now`: an open breaker whose period has passed admits a probe. */
export type EffectiveHealth = 'healthy' | 'unhealthy' | 'probe';

export function effectiveStatus(
  state: Pick<BreakerState, 'status' | 'mode' | 'openUntil' | 'provisional'>,
  now: string,
): BreakerStatus {
  const recorded = recordedStatusAt(state, now);
  // A provisional opening (the fast path's, awaiting its windows) keeps traffic away at once.
  const provisional = state.provisional;
  if (recorded === 'closed' && state.mode === 'auto' && provisional && now < provisional.openUntil)
    return 'open';
  return recorded;
}

/** The status the recorded transitions give at `now` (a provisional opening left out): what the fold judges on. */
function recordedStatusAt(
  state: Pick<BreakerState, 'status' | 'mode' | 'openUntil'>,
  now: string,
): BreakerStatus {
  if (state.mode === 'forced_open') return 'open';
  if (state.mode === 'forced_closed') return 'closed';
  if (state.status === 'open' && state.openUntil !== null && now >= state.openUntil) return 'half_open';
  return state.status;
}

export function effectiveHealth(
  state: Pick<BreakerState, 'status' | 'mode' | 'openUntil' | 'probe' | 'provisional'>,
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
 * The fold over closed signal windows, both opening rules: each window newer than the last judged,
 * oldest first, that began at or after the breaker's last transition (evidence from before a change
 * of state never counts again) is judged while the recorded breaker is closed in `auto` mode:
 *   1. the consecutive rule, from its run summary and the run carried in (`consecutiveOpeningIn`):
 *      an opening at the failure that completes N in a row; otherwise the run carried on;
 *   2. the failure-rate rule at its end, over the windows of the rule's span up to it.
 * Every judged window is recorded (`WindowJudged`), so it is judged once. Then a provisional opening
 * whose point lies in a judged window and that the fold did not record is withdrawn. Pure: the same
 * windows and state give the same events.
 */
function judgeWindows(state: BreakerState, command: JudgeWindows, config: BreakerConfig): HealthEvent[] {
  const judged = state.windowsJudgedThrough ?? Number.NEGATIVE_INFINITY;
  const windows = [...command.windows].sort((a, b) => a.startMs - b.startMs);
  const events: HealthEvent[] = [];
  let current = state;
  const apply = (event: HealthEvent) => {
    events.push(event);
    current = evolveHealth(current, event);
  };
  for (const window of windows) {
    if (window.startMs <= judged) continue;
    const at = new Date(window.endMs).toISOString();
    const counts = current.since === null || window.startMs >= Date.parse(current.since);
    if (counts && current.mode === 'auto' && recordedStatusAt(current, at) === 'closed') {
      const carried = current.runCarried ?? 0;
      const point = window.run
        ? consecutiveOpeningIn(window.run, carried, config.consecutiveFailuresToOpen)
        : null;
      if (point) {
        apply(
          opening(
            current,
            { causedBy: point.key, actor: null, at: new Date(point.atMs).toISOString() },
            'consecutive_failures',
            `${config.consecutiveFailuresToOpen} consecutive failures (${classText(point.errorClass)})`,
            config,
          ),
        );
      } else if (window.run) {
        const next = carriedAfter(window.run, carried);
        if (next !== carried) apply({ type: 'RunCarried', carried: next });
      }
      if (recordedStatusAt(current, at) === 'closed') {
        const { attempts, failures } = windowTotals(windows, at, current.since, config);
        if (attempts >= config.windowMinAttempts && failures / attempts > config.windowFailureRatio) {
          apply(
            opening(
              current,
              { causedBy: window.id, actor: null, at },
              'failure_rate',
              `${failures} of ${attempts} attempts failed in ${config.windowMs / 60_000} min`,
              config,
            ),
          );
        }
      }
    }
    apply({ type: 'WindowJudged', startMs: window.startMs });
  }
  const provisional = current.provisional;
  if (
    provisional &&
    current.windowsJudgedThrough != null &&
    windowStartOf(Date.parse(provisional.at)) <= current.windowsJudgedThrough
  ) {
    apply({ type: 'ProvisionalWithdrawn', provisional });
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
    signalId: command.signalId,
    errorClass: command.errorClass,
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

  // Closed. A failure first takes in the success register: failures before the newest success
  // leave the arrived run. The run is kept in event time, so its Nth failure is the same whatever
  // order the failures arrived in.
  const seen =
    failed &&
    command.lastSuccessAt != null &&
    (state.successSeenAt == null || command.lastSuccessAt > state.successSeenAt)
      ? [{ type: 'SuccessSeen', lastSuccessAt: command.lastSuccessAt } as const]
      : [];
  const after = [...seen, counted].reduce((s, e) => evolveHealth(s, e), state);
  if (!failed) return [counted];
  const point = (after.run ?? [])[config.consecutiveFailuresToOpen - 1];
  if (!point) return [...seen, counted];
  const opened = opening(
    after,
    { causedBy: point.key, actor: null, at: point.at },
    'consecutive_failures',
    `${config.consecutiveFailuresToOpen} consecutive failures (${classText(point.errorClass)})`,
    config,
  );
  if (!command.windowed) return [...seen, counted, opened];
  // In time for its windows: open for routers now, recorded by the fold over the closed windows.
  const t = (opened as Extract<HealthEvent, { type: 'ProviderHealthChanged' }>).transition;
  const provisional: ProvisionalOpening = {
    at: t.at,
    causedBy: t.causedBy,
    detail: t.detail,
    openUntil: t.openUntil as string,
    version: t.version,
  };
  return [...seen, counted, { type: 'ProvisionalOpened', provisional }];
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

/** Failures the breaker keeps of its arrived run (the earliest in event time): N ≤ this. */
export const RUN_KEPT = 8;

/** The arrived run without the failures at or before a success at `at` (event time). */
const runAfter = (run: readonly RunMark[], at: string): RunMark[] => run.filter((f) => f.at > at);

/**
 * A counted failure joins the arrived run if it comes after the newest success known and its window
 * began at or after the breaker's last transition (the fold's rule); the run stays in event-time
 * order, each key once, the earliest RUN_KEPT kept (the Nth is what opens).
 */
function joinRun(state: BreakerState, event: Extract<HealthEvent, { type: 'AttemptCounted' }>): RunMark[] {
  const run = state.run ?? [];
  const key = event.signalId;
  if (key === undefined || run.some((f) => f.key === key)) return [...run];
  if (state.successSeenAt != null && event.at <= state.successSeenAt) return [...run];
  if (state.since !== null && windowStartOf(Date.parse(event.at)) < Date.parse(state.since)) return [...run];
  const mark: RunMark = { at: event.at, key, errorClass: event.errorClass ?? null };
  return [...run, mark]
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, RUN_KEPT);
}

export function evolveHealth(state: BreakerState, event: HealthEvent): BreakerState {
  switch (event.type) {
    case 'AttemptCounted': {
      const failed = event.result === 'failure';
      const releases = state.probe !== null && event.dispatchId === state.probe.dispatchId;
      const run = failed ? joinRun(state, event) : runAfter(state.run ?? [], event.at);
      return {
        ...state,
        run,
        consecutiveFailures: run.length,
        probeSuccesses:
          effectiveStatus(state, event.at) === 'half_open' && !failed && releases
            ? state.probeSuccesses + 1
            : state.probeSuccesses,
        probe: releases ? null : state.probe,
      };
    }
    case 'ProbeReleased':
      return state.probe?.dispatchId === event.dispatchId ? { ...state, probe: null } : state;
    case 'SuccessSeen': {
      const run = runAfter(state.run ?? [], event.lastSuccessAt);
      return { ...state, run, consecutiveFailures: run.length, successSeenAt: event.lastSuccessAt };
    }
    case 'WindowJudged':
      return { ...state, windowsJudgedThrough: event.startMs };
    case 'RunCarried':
      return { ...state, runCarried: event.carried };
    case 'ProvisionalOpened':
      return { ...state, provisional: event.provisional };
    case 'ProvisionalWithdrawn':
      // The windows did not bear it out: the arrived run starts over (the register or the windows
      // hold what broke it; a failure the windows refused as late must not re-trigger it).
      return { ...state, provisional: null, run: [], consecutiveFailures: 0 };
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
    // (the fold, likewise, weighs only windows that began after the transition).
    consecutiveFailures: leavesWindow ? 0 : state.consecutiveFailures,
    run: leavesWindow ? [] : (state.run ?? []),
    runCarried: 0,
    provisional: null,
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
 * Where an attempt report goes: `register` (the breaker's success register: no append on the
 * breaker's stream) or `breaker` (an append at the breaker's revision). Only a success that
 * is not the leased probe's goes to the register: a success changes no state but the consecutive
 * count, and that is taken from the register when the next failure is appended. The probe's success
 * stays on the breaker (it counts towards closing, and releases the lease); failures, `unknown`
 * outcomes and job-side failures take the breaker path as before (most change nothing).
 */
export function attemptRoute(state: BreakerState, command: RecordAttempt): 'register' | 'breaker' {
  if (command.outcome !== 'succeeded') return 'breaker';
  const isProbe = state.probe !== null && command.dispatchId === state.probe.dispatchId;
  return isProbe ? 'breaker' : 'register';
}

/**
 * The breaker as its next counted failure will see it once it has read the success register
 * (`lastSuccessAt`, the newest success known): the arrived run without the failures a newer
 * success broke (`SuccessSeen`). Two stored states that look the same here decide every later
 * signal alike — what lets a batch leave its breaker unwritten when its failures changed nothing
 * that lasts (src/commands/record-health-signal.ts, `planBreakerSignals`). Pure.
 */
export function breakerAsSeen(state: BreakerState, lastSuccessAt: string | null): BreakerState {
  if (lastSuccessAt === null || (state.successSeenAt != null && lastSuccessAt <= state.successSeenAt))
    return state;
  return evolveHealth(state, { type: 'SuccessSeen', lastSuccessAt });
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
