/**
 * The signal-window store port: provider signals counted into event-time tumbling windows, one
 * series per provider/model pair, and each window, once due, closed into one immutable record.
 * The pure part — which counters a signal adds, how shards merge, when a window is due, what the
 * percentiles are — is src/provider-health/signal-windows.ts; this port only stores and reads.
 *
 * Adapter: src/aws/dynamodb-signal-windows.ts (items `window#…` of `ProviderHealth-<Stage>`);
 * in-memory twin: src/memory/in-memory-signal-windows.ts. Both pass
 * tests/support/signal-windows-contract.ts.
 */

/** A provider/model pair whose signals share one window series; `model` null: the provider's own. */
export interface WindowPair {
  readonly provider: string;
  readonly model: string | null;
}

/** Whole-number counters by name (src/provider-health/signal-windows.ts names them). */
export type WindowCounts = Readonly<Record<string, number>>;

/** What one signal adds to its window: derived from the signal's own facts only. */
export interface WindowFact {
  readonly pair: WindowPair;
  /** The dedupe key: the same signal delivered again (or re-published) has the same key. */
  readonly key: string;
  /** The window's start (epoch ms, a multiple of the window length), from the signal's event time. */
  readonly windowStartMs: number;
  readonly counts: WindowCounts;
  /** The signal's event time (epoch ms), kept for the breaker's evidence (its run is ordered by it). */
  readonly atMs?: number;
}

/** A window closed: the fold of its facts (each key once), immutable. */
export interface ClosedWindow {
  /** `<provider>#<model or ->#<windowStartMs>`: stable facts only, the same on every replay. */
  readonly id: string;
  readonly pair: WindowPair;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly counts: WindowCounts;
}

/** A pair's recent closed windows (newest last) and the windows still open (with data, not yet closed). */
export interface WindowSummary {
  readonly pair: WindowPair;
  readonly closed: readonly ClosedWindow[];
  readonly open: readonly number[];
}

export interface SignalWindowStore {
  /**
   * Stores a batch of facts (at least once): one item per fact group of the batch
   * (`factGroups` in src/provider-health/signal-windows.ts), listed in its window's group index,
   * and each window listed as open in its pair's summary. Writing the same batch again rewrites
   * the same items; a key that several groups hold is counted once when the window is read.
   */
  ingest(facts: readonly WindowFact[]): Promise<void>;
  /**
   * Each window's counters as they stand (its facts folded, each key once: `foldFacts`), by
   * `windowRefKey`; a window without facts has empty counters. To close a window (every group), or
   * to read it while open: `maxGroups` then bounds the groups read per window (those whose ids sort
   * first), a provisional sample whatever the traffic.
   */
  readWindows(
    windows: readonly WindowRef[],
    options?: { readonly maxGroups?: number },
  ): Promise<Map<string, WindowCounts>>;
  /**
   * Stores the closed window (immutable: a second close of the same window keeps the first) and
   * moves it from the pair's open list into its summary, keeping at most `keep` closed windows
   * there. Answers the record that stays — the first one stored — so every closer reports and
   * judges the same sums, whatever it read itself.
   */
  storeClosed(window: ClosedWindow, keep: number): Promise<ClosedWindow>;
  /** The summaries of these pairs, in one read; a pair never signalled has an empty summary. */
  readSummaries(pairs: readonly WindowPair[]): Promise<Map<string, WindowSummary>>;
  /** One closed window as stored, or undefined (never closed, or expired). */
  readClosed(pair: WindowPair, windowStartMs: number): Promise<ClosedWindow | undefined>;
}

/** One window of one pair. */
export interface WindowRef {
  readonly pair: WindowPair;
  readonly windowStartMs: number;
}

/** `fal#wan-i2v#1765015200000`: the window's id (ClosedWindow.id), the map key of readShards. */
export const windowRefKey = (window: WindowRef): string =>
  `${window.pair.provider}#${window.pair.model ?? '-'}#${window.windowStartMs}`;

/** `fal#wan-i2v`, `fal#-` for a provider-wide pair: the map key of summaries. */
export const windowPairKey = (pair: WindowPair): string => `${pair.provider}#${pair.model ?? '-'}`;
