/**
 * From stored breakers to what a decision needs: each candidate (`<provider>#<model>`) of a table
 * gets the worse of its provider-level and model-level breakers at `now`, with the breaker and
 * transition version it was read from. Pure.
 */

import type { BreakerState } from '../log/health-records.ts';
import type { BreakerRef } from '../ports/provider-health-store.ts';
import type { CandidateHealth, Explanation, HealthContext } from '../routing/decide.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { breakerKey, effectiveHealth } from './breaker.ts';

/** What a router read: the breakers found, or `unavailable` (then every candidate is healthy). */
export type HealthSnapshot =
  | { readonly read: 'ok'; readonly breakers: ReadonlyMap<string, BreakerState> }
  | { readonly read: 'unavailable' };

type Providers = RoutingTable['providers'];

/** Every breaker a catalogue's candidates may be guarded by: each provider and each provider#model. */
export function breakerRefsOf(providers: Providers): BreakerRef[] {
  return Object.entries(providers).flatMap(([provider, entry]) => [
    { provider, model: null },
    ...Object.keys(entry.models).map((model) => ({ provider, model })),
  ]);
}

const rank = { healthy: 0, probe: 1, unhealthy: 2 } as const;

export function healthContextOf(snapshot: HealthSnapshot, providers: Providers, now: string): HealthContext {
  if (snapshot.read === 'unavailable') return { read: 'unavailable', candidates: {} };
  const candidates: Record<string, CandidateHealth> = {};
  for (const [provider, entry] of Object.entries(providers)) {
    for (const model of Object.keys(entry.models)) {
      let worst: CandidateHealth | undefined;
      for (const key of [breakerKey(provider, model), breakerKey(provider)]) {
        const state = snapshot.breakers.get(key);
        if (!state) continue;
        const read: CandidateHealth = {
          health: effectiveHealth(state, now),
          breaker: key,
          version: state.version,
        };
        if (!worst || rank[read.health] > rank[worst.health]) worst = read;
      }
      if (worst) candidates[`${provider}#${model}`] = worst;
    }
  }
  return { read: 'ok', candidates };
}

/**
 * The health a recorded decision read, rebuilt from its explanation (the breaker and version of
 * every candidate it checked), so `what-if` re-decides under the same health, like for like.
 * Undefined when the decision did not consult health.
 */
export function healthRecordedIn(explanation: Explanation): HealthContext | undefined {
  const { health } = explanation;
  if (!health) return undefined;
  if (health.read === 'unavailable') return { read: 'unavailable', candidates: {} };
  const candidates: Record<string, CandidateHealth> = {};
  for (const candidate of explanation.candidates) {
    if (!candidate.breaker || candidate.healthVersion === undefined) continue;
    const unhealthy = candidate.reason === 'provider_unhealthy' || candidate.healthIgnored === true;
    const pair = `${candidate.provider}#${candidate.model}`;
    // A panic selection follows its provider_unhealthy exclusion: the exclusion is what was read.
    if (candidates[pair]?.health === 'unhealthy') continue;
    candidates[pair] = {
      health: unhealthy ? 'unhealthy' : 'healthy',
      breaker: candidate.breaker,
      version: candidate.healthVersion,
    };
  }
  return { read: 'ok', candidates };
}
