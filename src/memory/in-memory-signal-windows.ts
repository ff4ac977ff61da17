/**
 * Signal windows in memory, for unit tests: passes the same contract suite as the DynamoDB adapter
 * (tests/support/signal-windows-contract.ts) — a marker per key, counters added per shard, a closed
 * window kept as first stored, summaries holding the newest `keep` closed windows.
 */
import {
  type ClosedWindow,
  type IngestResult,
  type SignalWindowStore,
  type WindowCounts,
  type WindowFact,
  type WindowPair,
  type WindowRef,
  type WindowSummary,
  windowPairKey,
  windowRefKey,
} from '../ports/signal-windows.ts';

export class InMemorySignalWindows implements SignalWindowStore {
  readonly #seen = new Set<string>();
  readonly #shards = new Map<string, Map<string, number>>();
  readonly #closed = new Map<string, ClosedWindow>();
  readonly #summaries = new Map<string, { open: Set<number>; closed: Map<number, ClosedWindow> }>();
  /** Reads that reached the store (the router's calls per job). */
  reads = 0;

  #summary(pair: WindowPair) {
    const key = windowPairKey(pair);
    let summary = this.#summaries.get(key);
    if (!summary) {
      summary = { open: new Set(), closed: new Map() };
      this.#summaries.set(key, summary);
    }
    return summary;
  }

  async ingest(fact: WindowFact): Promise<IngestResult> {
    this.#summary(fact.pair).open.add(fact.windowStartMs);
    if (this.#seen.has(fact.key)) return 'duplicate';
    this.#seen.add(fact.key);
    const id = `${windowRefKey({ pair: fact.pair, windowStartMs: fact.windowStartMs })}#${fact.shard}`;
    const shard = this.#shards.get(id) ?? new Map<string, number>();
    for (const [name, value] of Object.entries(fact.counts)) shard.set(name, (shard.get(name) ?? 0) + value);
    this.#shards.set(id, shard);
    return 'counted';
  }

  async readShards(windows: readonly WindowRef[], shards: number): Promise<Map<string, WindowCounts[]>> {
    return new Map(
      windows.map((window) => [
        windowRefKey(window),
        Array.from({ length: shards }, (_, shard) =>
          Object.fromEntries(this.#shards.get(`${windowRefKey(window)}#${shard}`) ?? []),
        ),
      ]),
    );
  }

  async storeClosed(window: ClosedWindow, keep: number): Promise<void> {
    const stored = this.#closed.get(window.id) ?? window;
    this.#closed.set(window.id, stored);
    const summary = this.#summary(window.pair);
    summary.open.delete(window.windowStartMs);
    summary.closed.set(window.windowStartMs, stored);
    const starts = [...summary.closed.keys()].sort((a, b) => a - b);
    for (const start of starts.slice(0, Math.max(0, starts.length - keep))) summary.closed.delete(start);
  }

  async readSummaries(pairs: readonly WindowPair[]): Promise<Map<string, WindowSummary>> {
    this.reads++;
    return new Map(
      pairs.map((pair) => {
        const summary = this.#summaries.get(windowPairKey(pair));
        const closed = [...(summary?.closed.values() ?? [])].sort(
          (a, b) => a.windowStartMs - b.windowStartMs,
        );
        const open = [...(summary?.open ?? [])].sort((a, b) => a - b);
        return [windowPairKey(pair), { pair, closed, open }];
      }),
    );
  }

  async readClosed(pair: WindowPair, windowStartMs: number): Promise<ClosedWindow | undefined> {
    return this.#closed.get(windowRefKey({ pair, windowStartMs }));
  }
}
