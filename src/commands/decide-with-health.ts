/**
 * A decision that consults provider health: read the breakers (cached), decide (pure), and when the
 * decision makes this job a half-open breaker's probe, lease the probe before anything is recorded.
 * If another job holds the probe, that candidate counts as unhealthy for this job and the decision
 * is made again — at most once per candidate.
 */

import type { ProviderHealthStore } from '../ports/provider-health-store.ts';
import type { HealthReader } from '../provider-health/health-cache.ts';
import { breakerRefsOf, healthContextOf } from '../provider-health/health-view.ts';
import type { HealthContext, RoutingDecision } from '../routing/decide.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { breakerOfKey, leaseProbe } from './probe-lease.ts';

export interface RouterHealth {
  readonly reader: HealthReader & { invalidate?: () => void };
  readonly store: ProviderHealthStore;
}

export async function decideWithHealth<T extends { readonly decision: RoutingDecision }>(
  /** Every provider the decision may pick from (all tables in force). */
  providers: RoutingTable['providers'],
  /** The pure decision, given health (undefined: not consulted). */
  decideWith: (health: HealthContext | undefined) => T,
  health: RouterHealth | undefined,
  now: Date,
  /** The dispatchId this decision will be sent under: the probe lease's holder. */
  dispatchId: string,
): Promise<T> {
  if (!health) return decideWith(undefined);
  const at = now.toISOString();
  const snapshot = await health.reader.snapshot(breakerRefsOf(providers), now);
  let healthContext = healthContextOf(snapshot, providers, at);
  const bound = Object.keys(healthContext.candidates).length + 1;
  for (let attempt = 0; ; attempt++) {
    const made = decideWith(healthContext);
    const { decision } = made;
    if (decision.outcome !== 'routed' || !decision.probeOf || attempt === bound) return made;
    // An unreachable store leases nothing: the probe is skipped, never sent unleased.
    const leased = await leaseProbe(health.store, breakerOfKey(decision.probeOf), dispatchId, at).catch(
      () => false,
    );
    if (leased) {
      health.reader.invalidate?.();
      return made;
    }
    healthContext = withProbeTaken(healthContext, decision.probeOf);
  }
}

function withProbeTaken(context: HealthContext, breaker: string): HealthContext {
  const candidates = Object.fromEntries(
    Object.entries(context.candidates).map(([pair, read]) => [
      pair,
      read.breaker === breaker ? { ...read, health: 'unhealthy' as const } : read,
    ]),
  );
  return { ...context, candidates };
}
