/**
 * Leasing a half-open breaker's one probe: read the breaker strongly consistent, let the decider
 * grant the lease, and commit it on the breaker's revision. Two routers racing for the probe: one
 * commit wins, the other conflicts and re-reads a leased breaker (no probe). A lease held by this
 * very dispatch (a redelivered submission) is still this job's.
 */

import type { ProviderHealthStore } from '../ports/provider-health-store.ts';
import {
  type BreakerConfig,
  type BreakerState,
  DEFAULT_BREAKER_CONFIG,
  handleHealthCommand,
} from './breaker.ts';

const LEASE_ATTEMPTS = 3;

export async function leaseProbe(
  store: ProviderHealthStore,
  breaker: Pick<BreakerState, 'provider' | 'model'>,
  dispatchId: string,
  at: string,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): Promise<boolean> {
  for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
    const { state, rev } = await store.load({ provider: breaker.provider, model: breaker.model });
    if (state.probe?.dispatchId === dispatchId && at < state.probe.expiresAt) return true;
    const { events, state: next } = handleHealthCommand(
      state,
      { type: 'AcquireProbe', at, dispatchId },
      config,
    );
    if (events.length === 0) return false;
    const result = await store.commit({ signalId: null, at, expectedRev: rev, state: next, transitions: [] });
    if (result === 'committed') return true;
  }
  return false;
}

/** `fal#wan-i2v` → { provider: fal, model: wan-i2v }; `fal` → { provider: fal, model: null }. */
export function breakerOfKey(key: string): Pick<BreakerState, 'provider' | 'model'> {
  const [provider, ...model] = key.split('#');
  return { provider: provider as string, model: model.length > 0 ? model.join('#') : null };
}
