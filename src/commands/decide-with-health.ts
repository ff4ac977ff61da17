/**
 * A decision that consults provider health: read the breakers (cached), decide (pure), and when the
 * decision makes this job a half-open breaker's probe, lease the probe before anything is recorded.
 * If another job holds the probe, that candidate counts as unhealthy for this job and the decision
 * is made again — at most once per candidate.
 */
import type { JobSubmission } from '../intake/submission.ts';
import type { HealthReader } from '../provider-health/health-cache.ts';
import type { ProviderHealthStore } from '../provider-health/health-store.ts';
import { healthContextOf } from '../provider-health/health-view.ts';
import { breakerOfKey, leaseProbe } from '../provider-health/probe-lease.ts';
import { type DecisionContext, decide, type HealthContext, type RoutingDecision } from '../routing/decide.ts';

export interface RouterHealth {
  readonly reader: HealthReader & { invalidate?: () => void };
  readonly store: ProviderHealthStore;
}

export async function decideWithHealth(
  job: JobSubmission,
  context: Omit<DecisionContext, 'health'>,
  health: RouterHealth | undefined,
  now: Date,
  /** The dispatchId this decision will be sent under: the probe lease's holder. */
  dispatchId: string,
): Promise<RoutingDecision> {
  if (!health) return decide(job, context);
  const at = now.toISOString();
  let healthContext = healthContextOf(await health.reader.snapshot(context.table, now), context.table, at);
  const bound = Object.keys(healthContext.candidates).length + 1;
  for (let attempt = 0; ; attempt++) {
    const decision = decide(job, { ...context, health: healthContext });
    if (decision.outcome !== 'routed' || !decision.probeOf || attempt === bound) return decision;
    // An unreachable store leases nothing: the probe is skipped, never sent unleased.
    const leased = await leaseProbe(health.store, breakerOfKey(decision.probeOf), dispatchId, at).catch(
      () => false,
    );
    if (leased) {
      health.reader.invalidate?.();
      return decision;
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
