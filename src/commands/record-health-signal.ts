/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker, as one handleCommand: load the breaker → decide (pure) → commit state, dedupe marker
 * and transitions (appended to the `health#<key>` stream) in one atomic write, conditional on the
 * breaker's revision. A concurrent writer makes the commit conflict: read again and decide again,
 * a bounded number of times; then CommandContendedError goes back to EventBridge's retry, and the
 * marker makes the retry safe.
 */
import { createHash } from 'node:crypto';
import type { BreakerMode, HealthTransition } from '../log/health-records.ts';
import type { BreakerRef, ProviderHealthStore } from '../ports/provider-health-store.ts';
import {
  type BreakerConfig,
  breakerKey,
  DEFAULT_BREAKER_CONFIG,
  handleHealthCommand,
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

export async function recordHealthSignal(
  signal: HealthSignal,
  deps: RecordHealthSignalDependencies,
): Promise<RecordHealthSignalResult> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  return handleCommand(
    {
      read: () => deps.store.load(signal),
      decide: ({ state }) => handleHealthCommand(state, signal.command, config),
      append: async ({ events, state: next }, { rev }): Promise<RecordHealthSignalResult> => {
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
        return result === 'duplicate' ? { outcome: 'duplicate' } : { outcome: 'recorded', transitions };
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
