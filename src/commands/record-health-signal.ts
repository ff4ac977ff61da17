/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker, as one handleCommand: load the breaker → decide (pure) → commit state, dedupe marker
 * and transitions (appended to the `health#<key>` stream) in one atomic write, conditional on the
 * breaker's revision. Successes other than the probe's skip the commit: they raise the breaker's
 * success register (a max of event times, one write per breaker and batch), which the next
 * failure reads. A concurrent writer makes the commit conflict: read again and decide again, a
 * bounded number of times; then CommandContendedError goes back to the signal's retry, and the
 * marker makes the retry safe. JudgeClosedWindows feeds the failure-rate rule from closed windows.
 */
import { createHash } from 'node:crypto';
import type { BreakerMode, HealthTransition, ProvisionalOpening } from '../log/health-records.ts';
import type { BreakerRef, ProviderHealthStore, StoredBreaker } from '../ports/provider-health-store.ts';
import {
  attemptRoute,
  type BreakerConfig,
  breakerKey,
  DEFAULT_BREAKER_CONFIG,
  type HealthEvent,
  handleHealthCommand,
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

/**
 * Several signals in arrival order, as a batch (an SQS-batched consumer, the bench, `npm run local`
 * files): each run of successes bound for the register raises it once per breaker; every other
 * signal is recorded on its own, in order, after the successes before it — so the consecutive
 * count sees the same order as one signal at a time. One answer per signal, in order.
 */
export async function recordHealthSignals(
  signals: readonly HealthSignal[],
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult[]> {
  // Every breaker of the batch in one read (BatchGetItem): a success only needs to know whether it
  // is the leased probe's, and a lease is taken minutes before its job reports.
  const breakers = await deps.store.readMany(signals);
  const results: RecordHealthSignalResult[] = [];
  let pending: HealthSignal[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await deps.store.raiseSuccessRegisters(
      pending.map(({ key, command }) => ({ key, at: command.at, signalId: command.signalId })),
    );
    results.push(...pending.map(() => REGISTERED));
    pending = [];
  };
  for (const signal of signals) {
    const { command } = signal;
    // Absent from the batch read: never written yet, or moved by a commit of this batch (read again).
    let stored = breakers.get(signal.key);
    if (!stored) {
      stored = await deps.store.load(signal);
      breakers.set(signal.key, stored);
    }
    if (command.type === 'RecordAttempt' && attemptRoute(stored.state, command) === 'register') {
      pending.push(signal);
      continue;
    }
    await flush();
    results.push(await recordHealthSignal(signal, deps));
    // The breaker may have moved (a transition, a released probe): read it again when next needed.
    breakers.delete(signal.key);
  }
  await flush();
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
