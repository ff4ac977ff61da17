/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker, as one handleCommand: load the breaker → decide (pure) → commit state, dedupe marker
 * and transitions (appended to the `health#<key>` stream) in one atomic write, conditional on the
 * breaker's revision. Successes other than the probe's skip the commit: they raise the breaker's
 * success register (a max of event times, one write per breaker and batch), which the next
 * failure reads (a batch decides on one read of both: recordHealthSignals). A concurrent writer makes the commit conflict: read again and decide again, a
 * bounded number of times; then CommandContendedError goes back to the signal's retry, and the
 * marker makes the retry safe. JudgeClosedWindows feeds the failure-rate rule from closed windows.
 */
import { createHash } from 'node:crypto';
import type { BreakerMode, HealthTransition } from '../log/health-records.ts';
import type {
  BreakerRef,
  ProviderHealthStore,
  StoredBreaker,
  SuccessEntry,
} from '../ports/provider-health-store.ts';
import {
  attemptRoute,
  type BreakerConfig,
  breakerKey,
  DEFAULT_BREAKER_CONFIG,
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
  | { readonly outcome: 'recorded'; readonly transitions: readonly HealthTransition[] }
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
 * The signal's command as the breaker decides it: a success that is not the leased probe's goes to
 * the register (`attemptRoute`); a failure that can count sees its last success
 * (`readsSuccessRegister`): the newest of the register and `batchSuccess`, the newest success of
 * its batch before it (not written to the register yet).
 */
async function commandOn(
  stored: StoredBreaker,
  signal: HealthSignal,
  register: () => Promise<string | null>,
  batchSuccess: string | null,
): Promise<Read> {
  const { command } = signal;
  if (command.type !== 'RecordAttempt') return { ...stored, command, toRegister: false };
  if (attemptRoute(stored.state, command) === 'register') return { ...stored, command, toRegister: true };
  if (!readsSuccessRegister(stored.state, command)) return { ...stored, command, toRegister: false };
  const lastSuccessAt = laterOf(await register(), batchSuccess);
  return { ...stored, command: { ...command, lastSuccessAt }, toRegister: false };
}

/** What recording one signal answers, and the breaker as it stands after it (no read needed). */
interface Recorded {
  readonly result: RecordHealthSignalResult;
  readonly stored: StoredBreaker;
}

/**
 * One signal through handleCommand. `first`: the breaker and register as the batch read them, the
 * first cycle's input (no read); after a conflict, or without it, both are read fresh.
 */
function recordOn(
  signal: HealthSignal,
  deps: RecordHealthSignalDependencies,
  first?: {
    readonly stored: StoredBreaker;
    readonly register: string | null;
    readonly batchSuccess: string | null;
  },
): Promise<Recorded> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  return handleCommand(
    {
      read: async (conflict): Promise<Read> => {
        if (first && !conflict) {
          return commandOn(first.stored, signal, async () => first.register, first.batchSuccess);
        }
        const stored = await deps.store.load(signal);
        return commandOn(
          stored,
          signal,
          () => deps.store.readSuccessRegister(stored.state.key),
          first?.batchSuccess ?? null,
        );
      },
      decide: ({ state, command, toRegister }) =>
        toRegister ? null : handleHealthCommand(state, command, config),
      append: async (decided, read): Promise<Recorded> => {
        const stored = { state: read.state, rev: read.rev };
        if (decided === null) {
          await deps.store.raiseSuccessRegisters([
            { key: signal.key, at: signal.command.at, signalId: signal.command.signalId },
          ]);
          return { result: REGISTERED, stored };
        }
        const { events, state: next } = decided;
        // Nothing to record (a late signal while open, a client-side error): no write at all.
        if (events.length === 0) return { result: { outcome: 'unchanged' }, stored };
        const transitions = transitionsOf(events);
        const result = await deps.store.commit({
          signalId: signal.command.signalId,
          at: signal.command.at,
          expectedRev: read.rev,
          state: next,
          transitions,
        });
        // A duplicate wrote nothing: the breaker is as read (a later conflict reads it again).
        if (result === 'duplicate') return { result: DUP, stored };
        return { result: { outcome: 'recorded', transitions }, stored: { state: next, rev: read.rev + 1 } };
      },
    },
    deps.retry,
  );
}

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
  return (await recordOn(signal, deps)).result;
}

const DUP: RecordHealthSignalResult = { outcome: 'duplicate' };
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

/**
 * Several signals in arrival order, as a batch (an SQS-batched consumer, the bench, `npm run local`
 * files), deciding exactly as one signal at a time would, in far fewer requests:
 *   - one strongly consistent read takes every breaker of the batch and the success register of
 *     each breaker a failure of the batch may count against (`readForSignals`);
 *   - each breaker's signals are then taken in order (breakers side by side): a success bound for
 *     the register is set aside; anything else is decided on the breaker as the signals before it
 *     left it — a failure seeing as its last success the newest of the register read and the
 *     batch's successes before it, which is what the register would hold had each been written —
 *     and committed on the breaker's revision (a conflict reads both again: handleCommand);
 *   - each breaker's register is raised once, to its newest success of the batch.
 * A batch therefore costs one read, one commit per signal that changes its breaker (counted
 * failures, probes) and one register write per breaker — no read or write between signals.
 * One answer per signal, in order.
 */
export async function recordHealthSignals(
  signals: readonly HealthSignal[],
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult[]> {
  if (signals.length === 0) return [];
  const registerKeys = [...new Set(signals.filter(mayCount).map((signal) => signal.key))];
  const { breakers, registers } = await deps.store.readForSignals(signals, registerKeys);
  const results: RecordHealthSignalResult[] = new Array(signals.length);
  const byBreaker = new Map<string, number[]>();
  signals.forEach((signal, i) => {
    const held = byBreaker.get(signal.key);
    if (held) held.push(i);
    else byBreaker.set(signal.key, [i]);
  });
  const successes: SuccessEntry[] = [];
  await Promise.all(
    [...byBreaker].map(async ([key, indexes]) => {
      const head = signals[indexes[0] as number] as HealthSignal;
      let stored = breakers.get(key) ?? { state: initialBreakerState(head.provider, head.model), rev: 0 };
      let batchSuccess: string | null = null;
      for (const i of indexes) {
        const signal = signals[i] as HealthSignal;
        const { command } = signal;
        if (command.type === 'RecordAttempt' && attemptRoute(stored.state, command) === 'register') {
          successes.push({ key, at: command.at, signalId: command.signalId });
          batchSuccess = laterOf(batchSuccess, command.at);
          results[i] = REGISTERED;
          continue;
        }
        const register = registers.get(key) ?? null;
        const recorded = await recordOn(signal, deps, { stored, register, batchSuccess });
        results[i] = recorded.result;
        stored = recorded.stored;
      }
    }),
  );
  await deps.store.raiseSuccessRegisters(successes);
  return results;
}

/**
 * JudgeClosedWindows: the failure-rate rule over a pair's closed signal windows, run by the signal
 * handler after its closer (src/provider-health/window-counting.ts). Each window newer than the
 * breaker's `windowsJudgedThrough` is judged once, in order (`JudgeWindows`); a commit records the
 * judged mark and any transition together (no dedupe marker: the mark is the state, so a second
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
        return { outcome: 'recorded', transitions };
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
