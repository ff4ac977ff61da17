/**
 * Signal windows in memory, for unit tests: passes the same contract suite as the DynamoDB adapter
 * (tests/support/signal-windows-contract.ts) — fact groups per window, folded on read with each key
 * once, a closed window kept as first stored, summaries holding the newest `keep` closed windows.
 */
import * as port from '../ports/signal-windows.ts';
import { factGroups, foldFacts, type StoredFact } from '../provider-health/signal-windows.ts';

export class InMemorySignalWindows implements port.SignalWindowStore {
  /** Each window's groups by group id (a rewrite of a group replaces it with the same facts). */
  readonly #groups = new Map<string, Map<string, readonly StoredFact[]>>();
  readonly #closed = new Map<string, port.ClosedWindow>();
  readonly #summaries = new Map<string, { open: Set<number>; closed: Map<number, port.ClosedWindow> }>();
  /** Reads that reached the store (the router's calls per job). */
  reads = 0;

  #summary(pair: port.WindowPair) {
    const key = port.windowPairKey(pair);
    let summary = this.#summaries.get(key);
    if (!summary) {
      summary = { open: new Set(), closed: new Map() };
      this.#summaries.set(key, summary);
    }
    return summary;
  }

  async ingest(facts: readonly port.WindowFact[]): Promise<void> {
    for (const group of factGroups(facts)) {
      this.#summary(group.pair).open.add(group.windowStartMs);
      const ref = port.windowRefKey(group);
      const groups = this.#groups.get(ref) ?? new Map<string, readonly StoredFact[]>();
      groups.set(group.id, group.facts);
      this.#groups.set(ref, groups);
    }
  }

  async readWindows(
    windows: readonly port.WindowRef[],
    { maxGroups = Number.POSITIVE_INFINITY }: { readonly maxGroups?: number } = {},
  ): Promise<Map<string, port.WindowCounts>> {
    return new Map(
      windows.map((window) => {
        const groups = [...(this.#groups.get(port.windowRefKey(window)) ?? [])]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .slice(0, maxGroups);
        return [port.windowRefKey(window), foldFacts(groups.flatMap(([, facts]) => facts))];
      }),
    );
  }

  async storeClosed(window: port.ClosedWindow, keep: number): Promise<port.ClosedWindow> {
    const stored = this.#closed.get(window.id) ?? window;
    this.#closed.set(window.id, stored);
    const summary = this.#summary(window.pair);
    summary.open.delete(window.windowStartMs);
    summary.closed.set(window.windowStartMs, stored);
    const starts = [...summary.closed.keys()].sort((a, b) => a - b);
    for (const start of starts.slice(0, Math.max(0, starts.length - keep))) summary.closed.delete(start);
    return stored;
  }

  async readSummaries(pairs: readonly port.WindowPair[]): Promise<Map<string, port.WindowSummary>> {
    this.reads++;
    return new Map(
      pairs.map((pair) => {
        const summary = this.#summaries.get(port.windowPairKey(pair));
        const closed = [...(summary?.closed.values() ?? [])].sort(
          (a, b) => a.windowStartMs - b.windowStartMs,
        );
        const open = [...(summary?.open ?? [])].sort((a, b) => a - b);
        return [port.windowPairKey(pair), { pair, closed, open }];
      }),
    );
  }

  async readClosed(pair: port.WindowPair, windowStartMs: number): Promise<port.ClosedWindow | undefined> {
    return this.#closed.get(port.windowRefKey({ pair, windowStartMs }));
  }
}
