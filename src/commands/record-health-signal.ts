/**
 * RecordHealthSignal: one provider signal (an attempt report or an operator's status change) into
 * its breaker. Load the breaker → decide (pure) → commit state, dedupe marker and transitions in
 * one atomic write. A concurrent writer makes the commit conflict: read again and decide again, a
 * bounded number of times (then the error goes back to EventBridge's retry, and the marker makes
 * the retry safe).
 */

import type { ProviderHealthStore } from '../ports/provider-health-store.ts';
import {
  type BreakerConfig,
  DEFAULT_BREAKER_CONFIG,
  type HealthTransition,
  handleHealthCommand,
  transitionsOf,
} from '../provider-health/breaker.ts';
import type { HealthSignal } from '../provider-health/signals.ts';

export const MAX_COMMIT_ATTEMPTS = 5;

export type RecordHealthSignalResult =
  | { readonly outcome: 'recorded'; readonly transitions: readonly HealthTransition[] }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'duplicate' };

export class HealthContentionError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`breaker ${key} kept changing under ${MAX_COMMIT_ATTEMPTS} commit attempts`);
    this.name = 'HealthContentionError';
    this.key = key;
  }
}

export async function recordHealthSignal(
  signal: HealthSignal,
  deps: { readonly store: ProviderHealthStore; readonly config?: BreakerConfig },
): Promise<RecordHealthSignalResult> {
  const config = deps.config ?? DEFAULT_BREAKER_CONFIG;
  for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
    const { state, rev } = await deps.store.load(signal);
    const { events, state: next } = handleHealthCommand(state, signal.command, config);
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
    if (result === 'committed') return { outcome: 'recorded', transitions };
    if (result === 'duplicate') return { outcome: 'duplicate' };
  }
  throw new HealthContentionError(signal.key);
}
