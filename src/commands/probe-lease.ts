/**
 * Leasing a half-open breaker's one probe: read the breaker strongly consistent, let the decider
 * grant the lease, and append the leased state to the breaker's stream at its revision. Two routers
 * racing for the probe: one append wins, the other conflicts and re-reads a leased breaker (no
 * probe). A lease held by this very dispatch (a redelivered submission) is still this job's.
 */

import { CommandContendedError } from '../errors.ts';
import { breakerRecordsOf } from '../log/breaker-records.ts';
import type { BreakerState } from '../log/health-records.ts';
import { streamForHealth } from '../log/routing-records.ts';
import type { ProviderHealthStore } from '../ports/provider-health-store.ts';
import {
  type BreakerConfig,
  DEFAULT_BREAKER_CONFIG,
  handleHealthCommand,
} from '../provider-health/breaker.ts';
import { handleCommand } from './handle-command.ts';

/** Few and without a wait: the router is deciding a job meanwhile, and losing only skips the probe. */
const LEASE_RETRY = { maxAttempts: 3, backoffMs: () => 0 } as const;

/** The shape of every command (handleCommand): read the breaker → decide (pure) → append at its revision. */
export async function leaseProbe(
  store: ProviderHealthStore,
  breaker: Pick<BreakerState, 'provider' | 'model'>,
  dispatchId: string,
  at: string,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): Promise<boolean> {
  const ref = { provider: breaker.provider, model: breaker.model };
  try {
    return await handleCommand(
      {
        read: () => store.load(ref),
        decide: ({ state }) =>
          state.probe?.dispatchId === dispatchId && at < state.probe.expiresAt
            ? ('held' as const)
            : handleHealthCommand(state, { type: 'AcquireProbe', at, dispatchId }, config),
        append: async (decided, { rev }) => {
          if (decided === 'held') return true;
          if (decided.events.length === 0) return false;
          await store.appendToStream(
            streamForHealth(decided.state.key),
            breakerRecordsOf({ state: decided.state, at }),
            { expectedVersion: rev },
          );
          return true;
        },
      },
      LEASE_RETRY,
    );
  } catch (error) {
    if (error instanceof CommandContendedError) return false;
    throw error;
  }
}

/** `fal#wan-i2v` → { provider: fal, model: wan-i2v }; `fal` → { provider: fal, model: null }. */
export function breakerOfKey(key: string): Pick<BreakerState, 'provider' | 'model'> {
  const [provider, ...model] = key.split('#');
  return { provider: provider as string, model: model.length > 0 ? model.join('#') : null };
}
