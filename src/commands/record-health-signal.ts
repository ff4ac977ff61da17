/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker, as one handleCommand: load the breaker → decide (pure) → append to the breaker's
 * stream `health#<key>` at the revision read — the signal counted, its transitions and the state
 * it left, in one atomic write (the store's `appendToStream`, src/log/breaker-records.ts).
 * Successes other than the probe's skip the append: they raise the breaker's success register (a
 * max of event times, one write per breaker and batch), which the next failure reads (a batch
 * decides on one read of both: recordHealthSignals). In a batch, failures a newer success of the
 * batch append only their dedupe markers, with no expected version (`planBreakerSignals`). A concurrent
 * writer, or a copy of the signal counted before, makes the append throw VersionConflictError with
 * what it found: the command decides again on it — a signal counted before answers `duplicate` — a
 * bounded number of times; then CommandContendedError goes back to the signal's retry, and the
 * counted signal makes the retry safe. JudgeClosedWindows feeds both opening rules from closed windows.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { VersionConflictError } from '../errors.ts';
import {
  ANY_VERSION,
  type BreakerChange,
  breakerRecordsOf,
  countedRecordsOf,
} from '../log/breaker-records.ts';
import type {
  BreakerMode,
  BreakerState,
  HealthTransition,
  ProvisionalOpening,
} from '../log/health-records.ts';
import { streamForHealth } from '../log/routing-records.ts';
import {
  type BreakerConflict,
  type BreakerRef,
  MAX_SIGNALS_PER_APPEND,
  type ProviderHealthStore,
  type StoredBreaker,
  type SuccessEntry,
} from '../ports/provider-health-store.ts';
import {
  attemptRoute,
  type BreakerConfig,
  breakerAsSeen,
  breakerKey,
  DEFAULT_BREAKER_CONFIG,
  type HealthEvent,
  handleHealthCommand,
  initialBreakerState,
  isProviderSideFailure,
  readsSuccessRegister,
  transitionsOf,
  type WindowEvidence,
} from '../provider-health/breaker.ts';
import type { HealthSignal } from '../provider-health/signals.ts';
import { type ConflictRetry, conflictBackoffMs, handleCommand } from './handle-command.ts';

export type RecordHealthSignalResult =
  | {
      readonly outcome: 'recorded';
      readonly transitions: readonly HealthTransition[];
      /** The fast path opened the breaker provisionally (its windows will record or withdraw it). */
      readonly provisional?: ProvisionalOpening;
      /** The fold withdrew a provisional opening its windows did not bear out. */
      readonly withdrawn?: ProvisionalOpening;
    }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'duplicate' };

export interface RecordHealthSignalDependencies {
  readonly store: ProviderHealthStore;
  readonly config?: BreakerConfig;
  /** How version conflicts are retried (tests pass a `sleep` that does not wait). */
  readonly retry?: ConflictRetry;
}

/** The later of two event times (ISO 8601 UTC strings compare as times); null when neither. */
const laterOf = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null || a >= b ? a : b;

/** A breaker as its signals are decided on: as stored, its success register, the signals found counted before. */
interface BreakerRead {
  readonly stored: StoredBreaker;
  /** The register's newest success (null: none, or not read because no signal decided needs it). */
  readonly register: string | null;
  readonly counted: ReadonlySet<string>;
}

/** Appends one decision's change to its breaker's stream, at the revision it was decided on: the new revision. */
async function appendChange(store: ProviderHealthStore, change: BreakerChange, rev: number): Promise<number> {
  await store.appendToStream(streamForHealth(change.state.key), breakerRecordsOf(change), {
    expectedVersion: rev,
  });
  return rev + 1;
}

/** What a refused append found (its BreakerConflict); nothing when the refusal said nothing. */
function foundIn(conflict: VersionConflictError | undefined): BreakerConflict {
  const existing = conflict?.existing as Partial<BreakerConflict> | undefined;
  return { breaker: existing?.breaker ?? null, counted: existing?.counted ?? [] };
}

/**
 * How a breaker's signals retry: as every command (handleCommand, `deps.retry`), except that a
 * refusal naming signals counted before is a redelivery, not a race — decided again at once, as
 * RouteJob answers a taken version 1.
 */
function retryOf(deps: RecordHealthSignalDependencies): ConflictRetry {
  const backoff = deps.retry?.backoffMs ?? ((conflicts: number) => conflictBackoffMs(conflicts));
  return {
    ...deps.retry,
    backoffMs: (conflicts, conflict) =>
      foundIn(conflict).counted.length > 0 ? 0 : backoff(conflicts, conflict),
  };
}

/**
 * One signal, decided as a batch of one (`planBreakerSignals`). A success that is not the leased
 * probe's raises its breaker's success register (no append: `attemptRoute`); anything else that
 * changes the breaker is an append at the breaker's revision, and a failure that can count reads the
 * register first (`readsSuccessRegister`), so a success in between resets the consecutive count.
 * A refusal that names only the signal as counted before is decided again on the same read; any
 * other reads the breaker again.
 */
export async function recordHealthSignal(
  signal: HealthSignal,
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  let last: BreakerRead | undefined;
  return handleCommand(
    {
      read: async (conflict): Promise<BreakerRead> => {
        const found = foundIn(conflict);
        const counted = new Set([...(last?.counted ?? []), ...found.counted]);
        if (last && found.counted.length > 0 && found.breaker === null) {
          last = { ...last, counted };
          return last;
        }
        const stored = await deps.store.load(signal);
        const { command } = signal;
        const register =
          command.type === 'RecordAttempt' && readsSuccessRegister(stored.state, command)
            ? await deps.store.readSuccessRegister(stored.state.key)
            : null;
        last = { stored, register, counted };
        return last;
      },
      decide: ({ stored, register, counted }) =>
        planBreakerSignals([signal], { state: stored.state, register, batchSuccess: null }, counted, config),
      append: async (plan, { stored }): Promise<RecordHealthSignalResult> => {
        if (plan.successes.length > 0) await deps.store.raiseSuccessRegisters(plan.successes);
        // Nothing to record (a late signal while open, a client-side error, a copy): no write at all.
        if (plan.markers.length > 0) await appendChange(deps.store, changeOf(plan), stored.rev);
        return plan.answers[0] as RecordHealthSignalResult;
      },
    },
    retryOf(deps),
  );
}

/** What a plan appends: its counted signals, their transitions, the state after the last. */
const changeOf = (plan: BreakerPlan): BreakerChange => ({
  state: plan.state,
  at: (plan.markers.at(-1) as { at: string }).at,
  signals: plan.markers,
  transitions: plan.transitions,
});

const DUP: RecordHealthSignalResult = { outcome: 'duplicate' };

/** A provisional opening the events opened or withdrew, for the handler to report. */
function provisionalFacts(events: readonly HealthEvent[]): {
  provisional?: ProvisionalOpening;
  withdrawn?: ProvisionalOpening;
} {
  const facts: { provisional?: ProvisionalOpening; withdrawn?: ProvisionalOpening } = {};
  for (const event of events) {
    if (event.type === 'ProvisionalOpened') facts.provisional = event.provisional;
    if (event.type === 'ProvisionalWithdrawn') facts.withdrawn = event.provisional;
  }
  return facts;
}
/**
 * A success in the register: recorded, no transition. A redelivered copy answers the same — the
 * register is a max, so the copy changes nothing; its exactly-once count is the signal windows'.
 */
const REGISTERED: RecordHealthSignalResult = { outcome: 'recorded', transitions: [] };

/** A failure that may count against its breaker: its breaker's register is read with the batch. */
const mayCount = ({ command }: HealthSignal): boolean =>
  command.type === 'RecordAttempt' &&
  command.outcome !== 'succeeded' &&
  command.outcome !== 'unknown' &&
  isProviderSideFailure(command.errorClass);

/** What a run of one breaker's signals decided (pure): the answers, and what one append writes. */
export interface BreakerPlan {
  /** One answer per signal planned, in order. */
  readonly answers: readonly RecordHealthSignalResult[];
  /** Successes bound for the register. */
  readonly successes: readonly SuccessEntry[];
  /** The signals that changed the breaker: each is counted (HealthSignalCounted) by the append. */
  readonly markers: readonly { readonly signalId: string; readonly at: string }[];
  readonly transitions: readonly HealthTransition[];
  /** The breaker after the planned signals. */
  readonly state: BreakerState;
  /**
   * True when the planned signals changed nothing that lasts (see `planBreakerSignals`): `state` is then
   * the breaker as read, and only the markers are appended (ANY_VERSION), never the breaker.
   */
  readonly marksOnly: boolean;
}

/**
 * One breaker's signals of a batch, in arrival order, decided on `state` exactly as one signal at
 * a time would be (pure): a success bound for the register (`attemptRoute`) is set aside; anything
 * else is decided on the breaker as the signals before it left it, a failure that can count seeing
 * as its last success the newest of `register` and the batch's successes before it
 * (`batchSuccess`, then each planned one) — what the register would hold had each been written.
 * A signal in `counted` was counted before (a refused append said so), like a second copy of a
 * signal planned here: it changes nothing (answers `duplicate` where it would have been written).
 * Stops after MAX_SIGNALS_PER_APPEND signals to write; the answers say how many were planned.
 *
 * Marks only: when the signals to write are counted failures of a closed `auto` breaker and the
 * breaker after them, as its next failure will see it once the batch's register write lands
 * (`breakerAsSeen`, with the newest of `register` and the batch's successes), is the breaker as
 * read seen the same way, they changed nothing that lasts — a newer success broke every one of
 * them, and no opening was reached. Such a plan keeps the breaker as read and writes only the
 * signals' dedupe markers (`marksOnly`): the answers are the same, but no append races the batch's
 * neighbours for the breaker's revision. Among signals that mostly succeed, this is nearly every
 * batch's failures.
 */
export function planBreakerSignals(
  signals: readonly HealthSignal[],
  start: {
    readonly state: BreakerState;
    readonly register: string | null;
    readonly batchSuccess: string | null;
  },
  counted: ReadonlySet<string>,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): BreakerPlan {
  const answers: RecordHealthSignalResult[] = [];
  const successes: SuccessEntry[] = [];
  const markers: { signalId: string; at: string }[] = [];
  const transitions: HealthTransition[] = [];
  let { state, batchSuccess } = start;
  // Whether every signal to write only added evidence to the arrived run (closed, `auto`).
  let runEvidenceOnly = start.state.mode === 'auto';
  for (const signal of signals) {
    const { command } = signal;
    if (command.type === 'RecordAttempt' && attemptRoute(state, command) === 'register') {
      successes.push({ key: signal.key, at: command.at, signalId: command.signalId });
      batchSuccess = laterOf(batchSuccess, command.at);
      answers.push(REGISTERED);
      continue;
    }
    const decided =
      command.type === 'RecordAttempt' && readsSuccessRegister(state, command)
        ? { ...command, lastSuccessAt: laterOf(start.register, batchSuccess) }
        : command;
    const { events, state: next } = handleHealthCommand(state, decided, config);
    if (events.length === 0) {
      answers.push({ outcome: 'unchanged' });
      continue;
    }
    // Counted before, or a copy of a signal planned above (one append cannot count it twice).
    if (counted.has(command.signalId) || markers.some((m) => m.signalId === command.signalId)) {
      answers.push(DUP);
      continue;
    }
    if (markers.length === MAX_SIGNALS_PER_APPEND) break;
    const caused = transitionsOf(events);
    runEvidenceOnly &&= events.every(isRunEvidence);
    markers.push({ signalId: command.signalId, at: command.at });
    transitions.push(...caused);
    answers.push({ outcome: 'recorded', transitions: caused, ...provisionalFacts(events) });
    state = next;
  }
  // The newest success this breaker knows once the batch's register write lands.
  const newest = laterOf(start.register, batchSuccess);
  const superseded =
    markers.length > 0 &&
    runEvidenceOnly &&
    isDeepStrictEqual(breakerAsSeen(state, newest), breakerAsSeen(start.state, newest));
  if (superseded)
    return {
      answers,
      successes,
      markers,
      transitions: [],
      state: start.state,
      marksOnly: true,
    };
  return { answers, successes, markers, transitions, state, marksOnly: false };
}

/**
 * An event that only feeds the arrived run of a closed breaker: a counted failure, or the register
 * read before it. A run of these leaves nothing but the run (and the register mark) changed.
 */
const isRunEvidence = (event: HealthEvent): boolean =>
  event.type === 'SuccessSeen' || (event.type === 'AttemptCounted' && event.result === 'failure');

/**
 * One breaker's signals of a batch, in order, in as few appends as they need (one, unless more
 * than MAX_SIGNALS_PER_APPEND change the breaker): each run is planned (`planBreakerSignals`) and
 * appended at the revision it was planned on, through handleCommand. A refused append is decided
 * again on what it found: the breaker it returned (with the register as read), or — when it only
 * named signals counted before — the same read; a refusal that said neither reads the breaker and
 * its register again (one read). Answers in order, and the successes for the register.
 */
async function recordBreakerSignals(
  signals: readonly HealthSignal[],
  first: Omit<BreakerRead, 'counted'>,
  deps: RecordHealthSignalDependencies,
): Promise<{ readonly answers: RecordHealthSignalResult[]; readonly successes: SuccessEntry[] }> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  const head = signals[0] as HealthSignal;
  const answers: RecordHealthSignalResult[] = [];
  const successes: SuccessEntry[] = [];
  let read: BreakerRead = { ...first, counted: new Set() };
  let batchSuccess: string | null = null;
  while (answers.length < signals.length) {
    const rest = signals.slice(answers.length);
    const outcome = await handleCommand(
      {
        read: async (conflict): Promise<BreakerRead> => {
          if (!conflict) return read;
          const found = foundIn(conflict);
          const counted = new Set([...read.counted, ...found.counted]);
          // The breaker as the refused append found it; the register as read (a success raised
          // since is as if it came after these signals, as any success racing a batch may).
          if (found.breaker?.state.key === head.key) {
            read = { stored: found.breaker, register: read.register, counted };
          } else if (found.counted.length > 0) {
            // Only signals counted before: the breaker was still at the revision read.
            read = { ...read, counted };
          } else {
            const fresh = await deps.store.readForSignals([head], [head.key]);
            read = {
              stored: fresh.breakers.get(head.key) ?? {
                state: initialBreakerState(head.provider, head.model),
                rev: 0,
              },
              register: fresh.registers.get(head.key) ?? null,
              counted,
            };
          }
          return read;
        },
        decide: ({ stored, register, counted }) =>
          planBreakerSignals(rest, { state: stored.state, register, batchSuccess }, counted, config),
        append: async (plan, at) => {
          if (plan.markers.length === 0) return { plan, read: at };
          if (plan.marksOnly) {
            // Nothing that lasts changed: the markers alone, all or none, the breaker left as read
            // (no race on it). A marker that exists refuses them all, naming it: decided again above
            // on the same read, that signal answers `duplicate` and the others are appended.
            await deps.store.appendToStream(
              streamForHealth(head.key),
              countedRecordsOf(head.key, plan.markers),
              { expectedVersion: ANY_VERSION },
            );
            return { plan, read: at };
          }
          const rev = await appendChange(deps.store, changeOf(plan), at.stored.rev);
          return { plan, read: { ...at, stored: { state: plan.state, rev } } };
        },
      },
      retryOf(deps),
    );
    read = outcome.read;
    answers.push(...outcome.plan.answers);
    successes.push(...outcome.plan.successes);
    for (const success of outcome.plan.successes) batchSuccess = laterOf(batchSuccess, success.at);
  }
  return { answers, successes };
}

/**
 * Several signals in arrival order, as a batch (an SQS-batched consumer, the bench, `npm run local`
 * files), deciding exactly as one signal at a time would, in far fewer requests:
 *   - one strongly consistent read takes every breaker of the batch and the success register of
 *     each breaker a failure of the batch may count against (`readForSignals`);
 *   - each breaker's signals are decided in memory, in order (`planBreakerSignals`), breakers side
 *     by side, and everything that changed the breaker is ONE append to its stream (the signals
 *     counted, the transitions, the state) at the revision read — a refusal is decided again on
 *     what it found (handleCommand); a signal it names as counted before answers `duplicate` —
 *     unless a newer success broke every failure it planned (marks only): then just their dedupe
 *     markers are appended, all or none, with no expected version (ANY_VERSION), and the breaker
 *     is left alone;
 *   - each breaker's register is raised once, to its newest success of the batch.
 * A batch therefore costs one read, one append per breaker it changed that lasts (else one
 * markers-only append of its counted failures) and one register write per breaker with successes — no read or write
 * between its signals. The answers, transitions and registers are those of one signal at a time;
 * a breaker left unwritten differs from it only in a run its register's newest success already
 * broke (`breakerAsSeen`). One answer per signal, in order.
 */
export async function recordHealthSignals(
  signals: readonly HealthSignal[],
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult[]> {
  if (signals.length === 0) return [];
  const registerKeys = [...new Set(signals.filter(mayCount).map((signal) => signal.key))];
  const { breakers, registers } = await deps.store.readForSignals(signals, registerKeys);
  const byBreaker = new Map<string, number[]>();
  signals.forEach((signal, i) => {
    const held = byBreaker.get(signal.key);
    if (held) held.push(i);
    else byBreaker.set(signal.key, [i]);
  });
  const results: RecordHealthSignalResult[] = new Array(signals.length);
  const successes: SuccessEntry[] = [];
  await Promise.all(
    [...byBreaker].map(async ([key, indexes]) => {
      const own = indexes.map((i) => signals[i] as HealthSignal);
      const head = own[0] as HealthSignal;
      const stored = breakers.get(key) ?? { state: initialBreakerState(head.provider, head.model), rev: 0 };
      const recorded = await recordBreakerSignals(
        own,
        { stored, register: registers.get(key) ?? null },
        deps,
      );
      indexes.forEach((i, n) => {
        results[i] = recorded.answers[n] as RecordHealthSignalResult;
      });
      successes.push(...recorded.successes);
    }),
  );
  await deps.store.raiseSuccessRegisters(successes);
  return results;
}

/**
 * JudgeClosedWindows: the fold of both opening rules over a pair's closed signal windows, run after
 * every closer (the signal handler's, the scheduled one: src/provider-health/window-counting.ts).
 * Each window newer than the breaker's `windowsJudgedThrough` is judged once, in order
 * (`JudgeWindows`); one append records the judged mark, the carried run, a withdrawn provisional
 * opening and any transition together (no signal counted: the mark is the state, so a second
 * closer judging the same windows decides nothing). Nothing new to judge: no write.
 */
export async function judgeClosedWindows(
  ref: BreakerRef,
  windows: readonly WindowEvidence[],
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  const newest = windows.reduce((max, w) => Math.max(max, w.endMs), 0);
  return handleCommand(
    {
      read: () => deps.store.load(ref),
      decide: ({ state }) => handleHealthCommand(state, { type: 'JudgeWindows', windows }, config),
      append: async ({ events, state: next }, { rev }): Promise<RecordHealthSignalResult> => {
        if (events.length === 0) return { outcome: 'unchanged' };
        const transitions = transitionsOf(events);
        await appendChange(deps.store, { state: next, at: new Date(newest).toISOString(), transitions }, rev);
        return { outcome: 'recorded', transitions, ...provisionalFacts(events) };
      },
    },
    deps.retry,
  );
}

/** An operator's forced mode (`routing-manager health provider open|close|auto`). */
export interface ChangeProviderMode {
  readonly ref: BreakerRef;
  readonly mode: BreakerMode;
  readonly actor: string;
  readonly why: string;
  readonly at: string;
}

/**
 * The signal id of an operator's change: derived from its facts and the breaker version it was
 * asked against, so the same request sent twice is recorded once (counted once on the breaker's stream).
 */
export function operatorSignalId(request: Omit<ChangeProviderMode, 'at'>, version: number): string {
  const { ref, mode, actor, why } = request;
  const facts = JSON.stringify([ref.provider, ref.model, mode, actor, why, version]);
  return `operator-${createHash('sha256').update(facts).digest('hex').slice(0, 32)}`;
}

/** Records an operator's forced mode as a health signal; answers with the mode it found too. */
export async function changeProviderMode(
  request: ChangeProviderMode,
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult & { readonly modeBefore: BreakerMode }> {
  const { ref, mode, actor, why, at } = request;
  const { state } = await deps.store.load(ref);
  const result = await recordHealthSignal(
    {
      ...ref,
      key: breakerKey(ref.provider, ref.model),
      attempt: null,
      command: {
        type: 'ChangeMode',
        signalId: operatorSignalId(request, state.version),
        at,
        mode,
        actor,
        reason: why,
      },
    },
    deps,
  );
  return { ...result, modeBefore: state.mode };
}
