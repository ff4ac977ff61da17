/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker, as one handleCommand: load the breaker → decide (pure) → commit state, dedupe marker
 * and transitions (appended to the `health#<key>` stream) in one atomic write, conditional on the
 * breaker's revision. Successes other than the probe's skip the commit: they raise the breaker's
 * success register (a max of event times, one write per breaker and batch), which the next
 * failure reads (a batch decides on one read of both: recordHealthSignals). In a batch, failures a
 * newer success of the batch broke write only their markers, not the breaker (`planBreakerSignals`).
 * A concurrent writer makes the commit conflict: read again and decide again, a bounded number of
 * times; then CommandContendedError goes back to the signal's retry, and the marker makes the retry
 * safe. JudgeClosedWindows feeds the failure-rate rule from closed windows.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type {
  BreakerMode,
  BreakerState,
  HealthTransition,
  ProvisionalOpening,
} from '../log/health-records.ts';
import {
  type BreakerRef,
  MAX_SIGNALS_PER_COMMIT,
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
import { type ConflictRetry, handleCommand } from './handle-command.ts';

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

type Read = StoredBreaker & { readonly command: HealthSignal['command']; readonly toRegister: boolean };

/** The later of two event times (ISO 8601 UTC strings compare as times); null when neither. */
const laterOf = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null || a >= b ? a : b;

/**
 * One signal. A success that is not the leased probe's raises its breaker's success register (no
 * commit on the breaker item: `attemptRoute`); anything else is a commit on the breaker's revision,
 * and a failure that can count reads the register first (`readsSuccessRegister`), so a success in
 * between resets the consecutive count.
 */
export async function recordHealthSignal(
  signal: HealthSignal,
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  return handleCommand(
    {
      read: async (): Promise<Read> => {
        const stored = await deps.store.load(signal);
        const { command } = signal;
        if (command.type !== 'RecordAttempt') return { ...stored, command, toRegister: false };
        if (attemptRoute(stored.state, command) === 'register')
          return { ...stored, command, toRegister: true };
        if (!readsSuccessRegister(stored.state, command)) return { ...stored, command, toRegister: false };
        const lastSuccessAt = await deps.store.readSuccessRegister(stored.state.key);
        return { ...stored, command: { ...command, lastSuccessAt }, toRegister: false };
      },
      decide: ({ state, command, toRegister }) =>
        toRegister ? null : handleHealthCommand(state, command, config),
      append: async (decided, { rev }): Promise<RecordHealthSignalResult> => {
        if (decided === null) {
          await deps.store.raiseSuccessRegisters([
            { key: signal.key, at: signal.command.at, signalId: signal.command.signalId },
          ]);
          return REGISTERED;
        }
        const { events, state: next } = decided;
        // Nothing to record (a late signal while open, a client-side error): no write at all.
        if (events.length === 0) return { outcome: 'unchanged' };
        const transitions = transitionsOf(events);
        const result = await deps.store.commit({
          signalId: signal.command.signalId,
          at: signal.command.at,
          expectedRev: rev,
          state: next,
          transitions,
        });
        return result === 'duplicate'
          ? DUP
          : { outcome: 'recorded', transitions, ...provisionalFacts(events) };
      },
    },
    deps.retry,
  );
}

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

/** A breaker as one batch decides on it: its stored state and its success register. */
interface BreakerRead {
  readonly stored: StoredBreaker;
  readonly register: string | null;
}

/** What a run of one breaker's signals decided (pure): the answers, and what one commit writes. */
export interface BreakerPlan {
  /** One answer per signal planned, in order. */
  readonly answers: readonly RecordHealthSignalResult[];
  /** Successes bound for the register. */
  readonly successes: readonly SuccessEntry[];
  /** The signals that changed the breaker: each gets its marker in the commit. */
  readonly markers: readonly { readonly signalId: string; readonly at: string }[];
  readonly transitions: readonly HealthTransition[];
  /** The breaker after the planned signals. */
  readonly state: BreakerState;
  /**
   * True when the planned signals changed nothing that lasts (see `planBreakerSignals`): `state` is then
   * the breaker as read, and only the markers are written (`markSignals`), never the breaker.
   */
  readonly marksOnly: boolean;
  /** Each marker's answer, by position in `answers` (what a marker found existing turns into `duplicate`). */
  readonly markedAnswers: readonly number[];
}

/**
 * One breaker's signals of a batch, in arrival order, decided on `state` exactly as one signal at
 * a time would be (pure): a success bound for the register (`attemptRoute`) is set aside; anything
 * else is decided on the breaker as the signals before it left it, a failure that can count seeing
 * as its last success the newest of `register` and the batch's successes before it
 * (`batchSuccess`, then each planned one) — what the register would hold had each been written.
 * A signal in `duplicates` was counted before, like a second copy of a signal planned here: it
 * changes nothing (answers `duplicate` where it would have been written). Stops after
 * MAX_SIGNALS_PER_COMMIT signals to write; the answers say how many signals were planned.
 *
 * Marks only: when the signals to write are counted failures of a closed `auto` breaker and the
 * breaker after them, as its next failure will see it once the batch's register write lands
 * (`breakerAsSeen`, with the newest of `register` and the batch's successes), is the breaker as
 * read seen the same way, they changed nothing that lasts — a newer success broke every one of
 * them, and no opening was reached. Such a plan keeps the breaker as read and writes only the
 * markers (`marksOnly`): the answers are the same, but no commit races the batch's neighbours for
 * the breaker item. Among signals that mostly succeed, this is nearly every batch's failures.
 */
export function planBreakerSignals(
  signals: readonly HealthSignal[],
  start: {
    readonly state: BreakerState;
    readonly register: string | null;
    readonly batchSuccess: string | null;
  },
  duplicates: ReadonlySet<string>,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): BreakerPlan {
  const answers: RecordHealthSignalResult[] = [];
  const successes: SuccessEntry[] = [];
  const markers: { signalId: string; at: string }[] = [];
  const markedAnswers: number[] = [];
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
    // Counted before, or a copy of a signal planned above (one commit cannot write a marker twice).
    if (duplicates.has(command.signalId) || markers.some((m) => m.signalId === command.signalId)) {
      answers.push(DUP);
      continue;
    }
    if (markers.length === MAX_SIGNALS_PER_COMMIT) break;
    const caused = transitionsOf(events);
    runEvidenceOnly &&= events.every(isRunEvidence);
    markedAnswers.push(answers.length);
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
      markedAnswers,
      transitions: [],
      state: start.state,
      marksOnly: true,
    };
  return { answers, successes, markers, markedAnswers, transitions, state, marksOnly: false };
}

/**
 * A marks-only plan after its markers were written: a signal whose marker existed was counted
 * before, so it answers `duplicate`; the others stand — without it the breaker would be left as
 * unchanged as with it (one failure fewer for a success to break).
 */
function withDuplicates(plan: BreakerPlan, marked: readonly string[]): BreakerPlan {
  if (marked.length === 0) return plan;
  const answers = [...plan.answers];
  plan.markers.forEach(({ signalId }, n) => {
    if (marked.includes(signalId)) answers[plan.markedAnswers[n] as number] = DUP;
  });
  return { ...plan, answers };
}

/**
 * An event that only feeds the arrived run of a closed breaker: a counted failure, or the register
 * read before it. A run of these leaves nothing but the run (and the register mark) changed.
 */
const isRunEvidence = (event: HealthEvent): boolean =>
  event.type === 'SuccessSeen' || (event.type === 'AttemptCounted' && event.result === 'failure');

/**
 * One breaker's signals of a batch, in order, in as few commits as they need (one, unless more
 * than MAX_SIGNALS_PER_COMMIT change the breaker): each run is planned (`planBreakerSignals`) and
 * committed on the revision it was planned on, through handleCommand — a conflict reads the breaker
 * and its register again (one read) and plans again. Signals found counted before are planned
 * again as duplicates. Answers in order, and the successes for the register.
 */
async function recordBreakerSignals(
  signals: readonly HealthSignal[],
  first: BreakerRead,
  deps: RecordHealthSignalDependencies,
): Promise<{ readonly answers: RecordHealthSignalResult[]; readonly successes: SuccessEntry[] }> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  const head = signals[0] as HealthSignal;
  const answers: RecordHealthSignalResult[] = [];
  const successes: SuccessEntry[] = [];
  const duplicates = new Set<string>();
  let read = first;
  let batchSuccess: string | null = null;
  while (answers.length < signals.length) {
    const rest = signals.slice(answers.length);
    const outcome = await handleCommand(
      {
        read: async (conflict): Promise<BreakerRead> => {
          if (!conflict) return read;
          // The breaker as the refused commit found it; the register as read (a success raised
          // since is as if it came after these signals, as any success racing a batch may).
          const existing = conflict.existing as StoredBreaker | undefined;
          if (existing?.state?.key === head.key) return { stored: existing, register: read.register };
          const fresh = await deps.store.readForSignals([head], [head.key]);
          return {
            stored: fresh.breakers.get(head.key) ?? {
              state: initialBreakerState(head.provider, head.model),
              rev: 0,
            },
            register: fresh.registers.get(head.key) ?? null,
          };
        },
        decide: ({ stored, register }) =>
          planBreakerSignals(rest, { state: stored.state, register, batchSuccess }, duplicates, config),
        append: async (plan, at) => {
          if (plan.markers.length === 0) return { plan, read: at, found: [] };
          if (plan.marksOnly) {
            // Nothing that lasts changed: the markers alone, the breaker left as read (no race on it).
            const { duplicates: marked } = await deps.store.markSignals(plan.markers);
            return { plan: withDuplicates(plan, marked), read: at, found: [] };
          }
          const { duplicates: found } = await deps.store.commitSignals({
            signals: plan.markers,
            at: (plan.markers.at(-1) as { at: string }).at,
            expectedRev: at.stored.rev,
            state: plan.state,
            transitions: plan.transitions,
          });
          if (found.length > 0) return { plan, read: at, found };
          return {
            plan,
            read: { stored: { state: plan.state, rev: at.stored.rev + 1 }, register: at.register },
            found,
          };
        },
      },
      deps.retry,
    );
    read = outcome.read;
    if (outcome.found.length > 0) {
      for (const id of outcome.found) duplicates.add(id);
      continue;
    }
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
 *     by side, and everything that changed the breaker is ONE commit (`commitSignals`: a marker per
 *     signal, the state, the transitions) on the revision read — a conflict reads again and
 *     decides again (handleCommand); a signal counted before is decided again as a duplicate —
 *     unless a newer success broke every failure it planned (marks only): then just their markers
 *     are written (`markSignals`), and the breaker item is left alone;
 *   - each breaker's register is raised once, to its newest success of the batch.
 * A batch therefore costs one read, one commit per breaker it changed that lasts (else a marker
 * write per counted failure) and one register write per breaker with successes — no read or write
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
 * (`JudgeWindows`); a commit records the judged mark, the carried run, a withdrawn provisional
 * opening and any transition together (no dedupe marker: the mark is the state, so a second
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
        await deps.store.commit({
          signalId: null,
          at: new Date(newest).toISOString(),
          expectedRev: rev,
          state: next,
          transitions,
        });
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
 * asked against, so the same request sent twice is recorded once (the signal's dedupe marker).
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
