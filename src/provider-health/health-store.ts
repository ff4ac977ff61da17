/**
 * The provider-health store port: each breaker's working state (counters, window, probe lease)
 * shared by every router and signal-handler instance, with optimistic concurrency on a revision.
 * A commit is atomic: the signal's dedupe marker, the new state and the transitions it caused
 * (ProviderHealthChanged records in the routing log) are written together or not at all — so a
 * duplicate signal counts once and the log never disagrees with the state.
 *
 * DynamoDB implementation: src/aws/dynamodb-provider-health.ts. The in-memory twin below passes the
 * same contract suite (tests/support/provider-health-contract.ts).
 */
import type { RoutingLog } from '../log/routing-log.ts';
import { healthChangedRecord } from '../log/routing-records.ts';
import { type BreakerState, breakerKey, type HealthTransition, initialBreakerState } from './breaker.ts';

export interface BreakerRef {
  readonly provider: string;
  readonly model: string | null;
}

export interface StoredBreaker {
  readonly state: BreakerState;
  /** 0 when never written; every commit increments it. */
  readonly rev: number;
}

export interface BreakerCommit {
  /** The signal's event id (its dedupe key); null for a router's probe lease, which has none. */
  readonly signalId: string | null;
  /** Time of the signal: the dedupe marker expires a while after it. */
  readonly at: string;
  readonly expectedRev: number;
  readonly state: BreakerState;
  readonly transitions: readonly HealthTransition[];
}

export type CommitResult = 'committed' | 'duplicate' | 'conflict';

export interface ProviderHealthStore {
  /** The breaker as stored now (strongly consistent); the initial state at rev 0 when absent. */
  load(ref: BreakerRef): Promise<StoredBreaker>;
  /** Several breakers at once for a router (eventually consistent); absent ones are not in the map. */
  readMany(refs: readonly BreakerRef[]): Promise<Map<string, StoredBreaker>>;
  commit(change: BreakerCommit): Promise<CommitResult>;
}

/** How long a signal's dedupe marker is kept: beyond EventBridge's 24 h retry window. */
export const SIGNAL_MARKER_TTL_SECONDS = 7 * 24 * 3600;

export class InMemoryProviderHealthStore implements ProviderHealthStore {
  readonly #breakers = new Map<string, StoredBreaker>();
  readonly #signals = new Set<string>();
  readonly #log: RoutingLog;

  constructor(log: RoutingLog) {
    this.#log = log;
  }

  async load(ref: BreakerRef): Promise<StoredBreaker> {
    const stored = this.#breakers.get(breakerKey(ref.provider, ref.model));
    return stored ? structuredClone(stored) : { state: initialBreakerState(ref.provider, ref.model), rev: 0 };
  }

  async readMany(refs: readonly BreakerRef[]): Promise<Map<string, StoredBreaker>> {
    const found = new Map<string, StoredBreaker>();
    for (const ref of refs) {
      const key = breakerKey(ref.provider, ref.model);
      const stored = this.#breakers.get(key);
      if (stored) found.set(key, structuredClone(stored));
    }
    return found;
  }

  async commit(change: BreakerCommit): Promise<CommitResult> {
    if (change.signalId !== null && this.#signals.has(change.signalId)) return 'duplicate';
    const current = this.#breakers.get(change.state.key)?.rev ?? 0;
    if (current !== change.expectedRev) return 'conflict';
    for (const transition of change.transitions) {
      const record = healthChangedRecord(transition);
      const stream = await this.#log.readStream(record.stream);
      if (stream.some((r) => r.version === record.version)) return 'conflict';
    }
    // Nothing awaited from here on: the commit applies as one step, like the transaction it twins.
    const appends = change.transitions.map((t) => this.#log.append(healthChangedRecord(t)));
    if (change.signalId !== null) this.#signals.add(change.signalId);
    this.#breakers.set(change.state.key, {
      state: structuredClone(change.state),
      rev: change.expectedRev + 1,
    });
    await Promise.all(appends);
    return 'committed';
  }
}
