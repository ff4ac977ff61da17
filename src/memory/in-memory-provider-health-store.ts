/**
 * The provider-health store in memory, for unit tests: passes the same contract suite as the
 * DynamoDB adapter, including the atomic commit of marker, breaker and transition records.
 */
import { VersionConflictError } from '../errors.ts';
import { healthChangedRecord } from '../log/routing-records.ts';
import type {
  BreakerCommit,
  BreakerRef,
  CommitResult,
  ProviderHealthStore,
  StoredBreaker,
  TallyEntry,
  TallyResult,
} from '../ports/provider-health-store.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { breakerKey, initialBreakerState, type TallyReading } from '../provider-health/breaker.ts';
import { SUCCESS_SHARDS, tallyItemKey, tallyShard } from '../provider-health/success-tally.ts';

export class InMemoryProviderHealthStore implements ProviderHealthStore {
  readonly #breakers = new Map<string, StoredBreaker>();
  readonly #signals = new Set<string>();
  readonly #tally = new Map<string, number>();
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
    const conflict = new VersionConflictError(`breaker#${change.state.key}`, change.expectedRev + 1);
    if (current !== change.expectedRev) throw conflict;
    for (const transition of change.transitions) {
      const { metadata } = healthChangedRecord(transition);
      const stream = await this.#log.readStream(metadata.stream);
      if (stream.some((r) => r.metadata.version === metadata.version)) throw conflict;
    }
    // Nothing awaited from here on: the commit applies as one step, like the transaction it twins.
    const appends = change.transitions.map((t) => {
      const record = healthChangedRecord(t);
      const { stream, version } = record.metadata;
      return this.#log.appendToStream(stream, [record], { expectedVersion: version - 1 });
    });
    if (change.signalId !== null) this.#signals.add(change.signalId);
    this.#breakers.set(change.state.key, {
      state: structuredClone(change.state),
      rev: change.expectedRev + 1,
    });
    await Promise.all(appends);
    return 'committed';
  }

  async tallySuccesses(entries: readonly TallyEntry[]): Promise<TallyResult> {
    const counted: string[] = [];
    const duplicates: string[] = [];
    for (const entry of entries) {
      if (this.#signals.has(entry.signalId)) {
        duplicates.push(entry.signalId);
        continue;
      }
      this.#signals.add(entry.signalId);
      const pk = tallyItemKey(entry.key, entry.bucketStart, tallyShard(entry.signalId));
      this.#tally.set(pk, (this.#tally.get(pk) ?? 0) + 1);
      counted.push(entry.signalId);
    }
    return { counted, duplicates };
  }

  async readTally(key: string, bucketStarts: readonly number[]): Promise<TallyReading[]> {
    return [...new Set(bucketStarts)].map((start) => {
      let successes = 0;
      for (let shard = 0; shard < SUCCESS_SHARDS; shard++) {
        successes += this.#tally.get(tallyItemKey(key, start, shard)) ?? 0;
      }
      return { start, successes };
    });
  }
}
