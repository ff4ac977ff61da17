/**
 * From stored breakers to what a decision needs: each candidate (`<provider>#<model>`) of a table
 * gets the worse of its provider-level and model-level breakers at `now`, with the breaker and
 * transition version it was read from; and a breaker as an operator reads it (`BreakerView`: what
 * `routing-manager health` prints and the console's providers panel shows). Pure.
 */

import type { BreakerMode, BreakerState } from '../log/health-records.ts';
import type { BreakerRef } from '../ports/provider-health-store.ts';
import type { CandidateHealth, Explanation, HealthContext } from '../routing/decide.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import {
  breakerKey,
  DEFAULT_BREAKER_CONFIG,
  effectiveHealth,
  effectiveStatus,
  type WindowEvidence,
  windowTotals,
} from './breaker.ts';

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

/** A breaker as an operator reads it (`health --output json`, one line each). */
export interface BreakerView {
  readonly breaker: string;
  /** What a router acts on now (an elapsed open period reads half_open). */
  readonly status: string;
  readonly recordedStatus: BreakerState['status'];
  readonly mode: BreakerMode;
  readonly since: string | null;
  readonly reason: string;
  readonly detail: string;
  readonly openUntil: string | null;
  readonly version: number;
  readonly probe: string | null;
  /** Attempts counted in the breaker's sliding window (5 min) and the share that succeeded (null: none). */
  readonly window: {
    readonly attempts: number;
    readonly failures: number;
    readonly successRate: number | null;
  };
}

/**
 * What a router or an operator sees of a breaker at `now`; `windows`: the closed signal windows of
 * its pair (`breakerEvidenceOf`), what the window totals are taken from (none given: no attempts).
 */
export function breakerView(
  state: BreakerState,
  now: string,
  windows: readonly WindowEvidence[] = [],
): BreakerView {
  const status = effectiveStatus(state, now);
  // A provisional opening (the fast path's, not recorded yet) is shown as what keeps traffic away.
  const provisional = status === 'open' && state.status === 'closed' ? state.provisional : null;
  return {
    breaker: state.key,
    status,
    recordedStatus: state.status,
    mode: state.mode,
    since: provisional ? provisional.at : state.since,
    reason: provisional ? 'consecutive_failures' : state.reason,
    detail: provisional ? `${provisional.detail}, provisional until its windows close` : state.detail,
    openUntil: provisional ? provisional.openUntil : state.openUntil,
    version: state.version,
    probe: state.probe && now < state.probe.expiresAt ? state.probe.dispatchId : null,
    window: windowView(state, now, windows),
  };
}

/**
 * The failure-rate rule's evidence as of `now` (closed windows of the last 5 minutes since the last
 * transition); the rate is a percentage with one decimal, null without attempts.
 */
function windowView(
  state: BreakerState,
  now: string,
  windows: readonly WindowEvidence[],
): BreakerView['window'] {
  const { attempts, failures } = windowTotals(windows, now, state.since, DEFAULT_BREAKER_CONFIG);
  const successRate = attempts === 0 ? null : Math.round(((attempts - failures) / attempts) * 1000) / 10;
  return { attempts, failures, successRate };
}
