/**
 * The router's view of provider health: every breaker of the table in one read, kept for a few
 * seconds so that the health read costs a fraction of a call per job. A failed read is remembered
 * for the same time as `unavailable` — the router then fails open (every provider healthy, recorded
 * in the decision) rather than hammering a table that is down.
 */

import type { BreakerRef, ProviderHealthStore } from '../ports/provider-health-store.ts';
import { breakerKey } from './breaker.ts';
import type { HealthSnapshot } from './health-view.ts';

export const DEFAULT_HEALTH_CACHE_MS = 5_000;

export interface HealthReader {
  /** Never throws: an unreadable store is `unavailable`. */
  snapshot(refs: readonly BreakerRef[], now: Date): Promise<HealthSnapshot>;
}

export class CachedHealthReader implements HealthReader {
  readonly #store: ProviderHealthStore;
  readonly #ttlMs: number;
  #cached: { refs: string; at: number; snapshot: HealthSnapshot } | undefined;
  /** One refresh at a time: the jobs in flight when the cache expires share its read. */
  #refreshing: { refs: string; done: Promise<HealthSnapshot> } | undefined;
  /** Reads that reached the store (the benchmark's calls per job). */
  reads = 0;

  constructor(store: ProviderHealthStore, { ttlMs = DEFAULT_HEALTH_CACHE_MS }: { ttlMs?: number } = {}) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  async snapshot(refs: readonly BreakerRef[], now: Date): Promise<HealthSnapshot> {
    const cached = this.#cached;
    const time = now.getTime();
    const asked = refs.map((ref) => breakerKey(ref.provider, ref.model)).join(',');
    // A clock that went backwards, or other breakers (new rules), refreshes too.
    if (cached && cached.refs === asked && time >= cached.at && time - cached.at < this.#ttlMs) {
      return cached.snapshot;
    }
    if (this.#refreshing?.refs === asked) return this.#refreshing.done;
    const done = this.#read(refs).then((snapshot) => {
      this.#cached = { refs: asked, at: time, snapshot };
      this.#refreshing = undefined;
      return snapshot;
    });
    this.#refreshing = { refs: asked, done };
    return done;
  }

  async #read(refs: readonly BreakerRef[]): Promise<HealthSnapshot> {
    this.reads++;
    try {
      const stored = await this.#store.readMany(refs);
      return { read: 'ok', breakers: new Map([...stored].map(([key, { state }]) => [key, state])) };
    } catch {
      return { read: 'unavailable' };
    }
  }

  /** Forget the cached view (after this router leased a probe, the next job must see the lease). */
  invalidate(): void {
    this.#cached = undefined;
    this.#refreshing = undefined;
  }
}
