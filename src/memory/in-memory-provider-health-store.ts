/**
 * The provider-health store in memory, for unit tests: passes the same contract suite as the
 * DynamoDB adapter, including the atomic commit of marker, breaker and transition records.
 */
import { VersionConflictError } from '../errors.ts';
import { healthChangedRecord } from '../log/routing-records.ts';
import type * as port from '../ports/provider-health-store.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { breakerKey, initialBreakerState, newestSuccesses } from '../provider-health/breaker.ts';

export class InMemoryProviderHealthStore implements port.ProviderHealthStore {
  readonly #breakers = new Map<string, port.StoredBreaker>();
  readonly #signals = new Set<string>();
  readonly #registers = new Map<string, string>();
  readonly #log: RoutingLog;

  constructor(log: RoutingLog) {
    this.#log = log;
  }

  async load(ref: port.BreakerRef): Promise<port.StoredBreaker> {
    const stored = this.#breakers.get(breakerKey(ref.provider, ref.model));
    return stored ? structuredClone(stored) : { state: initialBreakerState(ref.provider, ref.model), rev: 0 };
  }

  async readMany(refs: readonly port.BreakerRef[]): Promise<Map<string, port.StoredBreaker>> {
    const found = new Map<string, port.StoredBreaker>();
    for (const ref of refs) {
      const key = breakerKey(ref.provider, ref.model);
      const stored = this.#breakers.get(key);
      if (stored) found.set(key, structuredClone(stored));
    }
    return found;
  }

  async commit(change: port.BreakerCommit): Promise<port.CommitResult> {
    if (change.signalId !== null && this.#signals.has(change.signalId)) return 'duplicate';
    await this.#apply(change, change.signalId === null ? [] : [change.signalId]);
    return 'committed';
  }

  async commitSignals(
    change: port.BreakerSignalsCommit,
  ): Promise<{ readonly duplicates: readonly string[] }> {
    const ids = change.signals.map((s) => s.signalId);
    const duplicates = ids.filter((id) => this.#signals.has(id));
    if (duplicates.length === 0) await this.#apply(change, ids);
    return { duplicates };
  }

  async markSignals(
    signals: port.BreakerSignalsCommit['signals'],
  ): Promise<{ readonly duplicates: readonly string[] }> {
    const duplicates: string[] = [];
    for (const { signalId } of signals) {
      if (this.#signals.has(signalId)) duplicates.push(signalId);
      else this.#signals.add(signalId);
    }
    return { duplicates };
  }

  /** The state, the markers and the transitions, or a conflict and nothing written. */
  async #apply(change: Omit<port.BreakerCommit, 'signalId'>, signalIds: readonly string[]): Promise<void> {
    const stored = this.#breakers.get(change.state.key);
    const conflict = new VersionConflictError(`breaker#${change.state.key}`, change.expectedRev + 1);
    if ((stored?.rev ?? 0) !== change.expectedRev) {
      throw new VersionConflictError(`breaker#${change.state.key}`, change.expectedRev + 1, {
        existing: structuredClone(stored),
      });
    }
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
    for (const id of signalIds) this.#signals.add(id);
    this.#breakers.set(change.state.key, {
      state: structuredClone(change.state),
      rev: change.expectedRev + 1,
    });
    await Promise.all(appends);
  }

  async raiseSuccessRegisters(entries: readonly port.SuccessEntry[]): Promise<void> {
    for (const { key, at } of newestSuccesses(entries)) {
      const held = this.#registers.get(key);
      if (held === undefined || at > held) this.#registers.set(key, at);
    }
  }

  async readForSignals(refs: readonly port.BreakerRef[], registerKeys: readonly string[]) {
    const breakers = await this.readMany(refs);
    const registers = new Map(registerKeys.map((key) => [key, this.#registers.get(key) ?? null]));
    return { breakers, registers };
  }

  async readSuccessRegister(key: string): Promise<string | null> {
    return this.#registers.get(key) ?? null;
  }
}
