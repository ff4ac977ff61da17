/**
 * The provider-health store in memory, for unit tests: passes the same contract suite as the
 * DynamoDB adapter, including the atomic append of markers, breaker and transition records, and of markers alone.
 */
import { VersionConflictError } from '../errors.ts';
import { BreakerStreamAppends, type BreakerWrite, type MarkersWrite } from '../log/breaker-records.ts';
import type * as port from '../ports/provider-health-store.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { breakerKey, initialBreakerState, newestSuccesses } from '../provider-health/breaker.ts';

export class InMemoryProviderHealthStore extends BreakerStreamAppends implements port.ProviderHealthStore {
  readonly #breakers = new Map<string, port.StoredBreaker>();
  readonly #signals = new Set<string>();
  readonly #registers = new Map<string, string>();
  readonly #log: RoutingLog;

  constructor(log: RoutingLog) {
    super();
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

  /** Every marker, or none and a conflict naming those that exist: checked and applied in one step. */
  protected async markIfUncounted(write: MarkersWrite): Promise<void> {
    const counted = write.signals.map((s) => s.signalId).filter((id) => this.#signals.has(id));
    if (counted.length > 0) {
      const existing: port.BreakerConflict = { breaker: null, counted };
      throw new VersionConflictError(write.stream, null, { existing });
    }
    for (const { signalId } of write.signals) this.#signals.add(signalId);
  }

  /** The markers, the state and the transitions, or a conflict saying what it found and nothing written. */
  protected async writeIfExpected(write: BreakerWrite): Promise<void> {
    let taken = false;
    for (const { metadata } of write.transitions) {
      const held = await this.#log.readStream(metadata.stream);
      taken ||= held.some((r) => r.metadata.version === metadata.version);
    }
    // Nothing awaited from here on: checked and applied as one step, like the transaction it twins.
    const stored = this.#breakers.get(write.key);
    const counted = write.signals.map((s) => s.signalId).filter((id) => this.#signals.has(id));
    const moved = (stored?.rev ?? 0) !== write.expectedRev;
    if (moved || taken || counted.length > 0) {
      const existing: port.BreakerConflict = {
        breaker: moved && stored ? structuredClone(stored) : null,
        counted,
      };
      throw new VersionConflictError(write.stream, write.expectedRev + 1, { existing });
    }
    const appends = write.transitions.map((record) =>
      this.#log.appendToStream(record.metadata.stream, [record], {
        expectedVersion: record.metadata.version - 1,
      }),
    );
    for (const { signalId } of write.signals) this.#signals.add(signalId);
    this.#breakers.set(write.key, { state: structuredClone(write.state), rev: write.expectedRev + 1 });
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
