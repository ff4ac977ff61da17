/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker, as one handleCommand: load the breaker → decide (pure) → commit state, dedupe marker
 * and transitions (appended to the `health#<key>` stream) in one atomic write, conditional on the
 * breaker's revision. Successes other than the probe's skip the commit: they go to the success
 * tally (src/provider-health/success-tally.ts), which the next failure folds in. A concurrent writer makes the commit conflict: read again and decide again,
 * a bounded number of times; then CommandContendedError goes back to EventBridge's retry, and the
 * marker makes the retry safe.
 */
import { createHash } from 'node:crypto';
import type { BreakerMode, HealthTransition } from '../log/health-records.ts';
import type { BreakerRef, ProviderHealthStore, StoredBreaker } from '../ports/provider-health-store.ts';
import {
  attemptRoute,
  type BreakerConfig,
  breakerKey,
  bucketStartOf,
  DEFAULT_BREAKER_CONFIG,
  handleHealthCommand,
  tallyBucketsToRead,
  transitionsOf,
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

type Read = StoredBreaker & { readonly command: HealthSignal['command']; readonly tallied: boolean };

/**
 * One signal. A success that is not the leased probe's goes to the success tally (one transaction
 * of its marker and an unconditional ADD, no commit on the breaker item: `attemptRoute`); anything
 * else is a commit on the breaker's revision, and a failure reads the tally of the buckets since the
 * previous failure first (`tallyBucketsToRead`), so a success in between resets the consecutive
 * count and the window counts every attempt.
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
        if (command.type !== 'RecordAttempt') return { ...stored, command, tallied: false };
        if (attemptRoute(stored.state, command) === 'tally') return { ...stored, command, tallied: true };
        const buckets = tallyBucketsToRead(stored.state, command, config);
        if (buckets.length === 0) return { ...stored, command, tallied: false };
        const tally = await deps.store.readTally(stored.state.key, buckets);
        return { ...stored, command: { ...command, tally }, tallied: false };
      },
      decide: ({ state, command, tallied }) => (tallied ? null : handleHealthCommand(state, command, config)),
      append: async (decided, { rev }): Promise<RecordHealthSignalResult> => {
        if (decided === null) return tallySuccesses([signal], deps.store, config).then(([r]) => r ?? DUP);
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
        return result === 'duplicate' ? DUP : { outcome: 'recorded', transitions };
      },
    },
    deps.retry,
  );
}

const DUP: RecordHealthSignalResult = { outcome: 'duplicate' };
const TALLIED: RecordHealthSignalResult = { outcome: 'recorded', transitions: [] };

/** Successes into the tally, one answer per signal in order: recorded (no transition) or duplicate. */
async function tallySuccesses(
  signals: readonly HealthSignal[],
  store: ProviderHealthStore,
  config: BreakerConfig,
): Promise<RecordHealthSignalResult[]> {
  const result = await store.tallySuccesses(
    signals.map(({ key, command }) => ({
      key,
      signalId: command.signalId,
      at: command.at,
      bucketStart: bucketStartOf(command.at, config),
    })),
  );
  const counted = new Set(result.counted);
  // The same id twice in one batch is counted once: the first copy answers recorded, the rest duplicate.
  return signals.map(({ command }) => {
    if (!counted.has(command.signalId)) return DUP;
    counted.delete(command.signalId);
    return TALLIED;
  });
}

/**
 * Several signals in arrival order, as a batch (an SQS-batched consumer, the bench, `npm run local`
 * files): each run of successes bound for the tally shares its transactions (≤ 100 items each); every
 * other signal is recorded on its own, in order, after the successes before it — so the
 * consecutive count sees the same order as one signal at a time. One answer per signal, in order.
 */
export async function recordHealthSignals(
  signals: readonly HealthSignal[],
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult[]> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  const breakers = new Map<string, StoredBreaker>();
  const results: RecordHealthSignalResult[] = [];
  let pending: HealthSignal[] = [];
  const flush = async () => {
    if (pending.length > 0) results.push(...(await tallySuccesses(pending, deps.store, config)));
    pending = [];
  };
  for (const signal of signals) {
    const { command } = signal;
    let stored = breakers.get(signal.key);
    if (!stored) {
      stored = await deps.store.load(signal);
      breakers.set(signal.key, stored);
    }
    if (command.type === 'RecordAttempt' && attemptRoute(stored.state, command) === 'tally') {
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
