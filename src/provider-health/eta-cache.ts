/**
 * The router's view of predicted completion times: every pair of the tables in force, read from
 * the signal windows' summaries and kept for a few seconds, so a job costs a fraction of a read.
 *
 * A refresh reads every pair's summary in one BatchGetItem; closes the windows that are due (at most
 * once per window across all instances in practice: any instance may, with the same result); reads
 * the windows still open (their group indexes, then their fact groups: two BatchGetItems) and folds
 * them (so a run time reported a second ago already counts, provisionally, before its window closes); and, when a provider declares a
 * `concurrency`, its slot ledger's shards (one BatchGetItem). A failed refresh is remembered for the
 * same time as an empty view: every quote is then a default (recorded as such), never an error.
 */

import type { SignalWindowStore, WindowPair } from '../ports/signal-windows.ts';
import { windowPairKey } from '../ports/signal-windows.ts';
import type { SlotLedger } from '../ports/slot-ledger.ts';
import { EMPTY_ETA, type EtaContext, type MeasuredTimes, type PairEta } from '../routing/eta.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { closeWindow, recentWindows, segmentStats } from './signal-windows.ts';
import { readProviderSlots } from './slot-claims.ts';
import { closeDueWindows } from './window-counting.ts';

export const DEFAULT_ETA_CACHE_MS = 5_000;
/** How far back closed windows count for the ETA model. */
export const ETA_HORIZON_MS = 3_600_000;
/** Open windows read provisionally per refresh (× GROUP_INDEX_SHARDS index items, then their groups). */
const MAX_OPEN_WINDOWS = 6;
/**
 * Fact groups read per open window (those whose ids sort first): the provisional view is a sample,
 * bounded whatever the traffic (one BatchGetItem per window), until the window closes in full.
 */
const PROVISIONAL_GROUPS = 100;

export interface EtaReader {
  /** Never throws: an unreadable store gives the empty view (every quote a default). */
  context(providers: RoutingTable['providers'], now: Date): Promise<EtaContext>;
}

export class CachedEtaReader implements EtaReader {
  readonly #windows: SignalWindowStore;
  readonly #ledger: SlotLedger | undefined;
  readonly #ttlMs: number;
  #cached: { asked: string; at: number; context: EtaContext } | undefined;
  /** One refresh at a time: the jobs in flight when the cache expires share its read. */
  #refreshing: { asked: string; done: Promise<EtaContext> } | undefined;
  /** Refreshes that reached the store (the benchmark's calls per job). */
  reads = 0;

  constructor(
    deps: { readonly windows: SignalWindowStore; readonly ledger?: SlotLedger },
    { ttlMs = DEFAULT_ETA_CACHE_MS }: { ttlMs?: number } = {},
  ) {
    this.#windows = deps.windows;
    this.#ledger = deps.ledger;
    this.#ttlMs = ttlMs;
  }

  async context(providers: RoutingTable['providers'], now: Date): Promise<EtaContext> {
    const time = now.getTime();
    const pairs = pairsOf(providers);
    const limited = Object.entries(providers)
      .filter(([, provider]) => provider.concurrency !== undefined)
      .map(([provider, { concurrency }]) => ({ provider, concurrency: concurrency as number }));
    const asked = JSON.stringify([pairs.map(windowPairKey), limited]);
    const cached = this.#cached;
    // A clock that went backwards, or other pairs (new rules), refreshes too.
    if (cached && cached.asked === asked && time >= cached.at && time - cached.at < this.#ttlMs) {
      return cached.context;
    }
    if (this.#refreshing?.asked === asked) return this.#refreshing.done;
    const done = this.#read(pairs, limited, time).then((context) => {
      this.#cached = { asked, at: time, context };
      this.#refreshing = undefined;
      return context;
    });
    this.#refreshing = { asked, done };
    return done;
  }

  async #read(
    pairs: readonly WindowPair[],
    limited: readonly { provider: string; concurrency: number }[],
    nowMs: number,
  ): Promise<EtaContext> {
    this.reads++;
    try {
      const { summaries } = await closeDueWindows(pairs, { windows: this.#windows, now: () => nowMs });
      const open = openWindowsToRead([...summaries.values()]);
      const counts =
        open.length > 0
          ? await this.#windows.readWindows(open, { maxGroups: PROVISIONAL_GROUPS })
          : new Map();
      const pairEtas: Record<string, PairEta> = {};
      for (const [key, summary] of summaries) {
        const provisional = open
          .filter((window) => windowPairKey(window.pair) === key)
          .map((window) =>
            closeWindow(window.pair, window.windowStartMs, counts.get(windowKeyOf(window)) ?? {}),
          );
        const windows = [...recentWindows(summary, nowMs, ETA_HORIZON_MS), ...provisional];
        if (windows.length > 0) pairEtas[key] = pairEtaOf(windows);
      }
      const slots =
        this.#ledger && limited.length > 0 ? await readProviderSlots(this.#ledger, limited, nowMs) : [];
      return {
        pairs: pairEtas,
        slotsFree: Object.fromEntries(slots.map((slot) => [slot.provider, slot.free])),
      };
    } catch {
      return EMPTY_ETA;
    }
  }
}

/**
 * The open windows a refresh reads, at most MAX_OPEN_WINDOWS: each pair's newest first, then each
 * pair's next newest, and so on (newest first within a round). A window stays open for its grace and
 * settle after its end (about 5 windows of a pair), so taking the newest across all pairs would let
 * one busy pair's windows crowd a quieter pair's only recent run times out of its quote.
 */
export function openWindowsToRead(
  summaries: readonly { readonly pair: WindowPair; readonly open: readonly number[] }[],
): { pair: WindowPair; windowStartMs: number }[] {
  return summaries
    .flatMap((summary) =>
      [...summary.open]
        .sort((a, b) => b - a)
        .map((windowStartMs, round) => ({ pair: summary.pair, windowStartMs, round })),
    )
    .sort((a, b) => a.round - b.round || b.windowStartMs - a.windowStartMs)
    .slice(0, MAX_OPEN_WINDOWS)
    .map(({ pair, windowStartMs }) => ({ pair, windowStartMs }));
}

const windowKeyOf = (window: { pair: WindowPair; windowStartMs: number }): string =>
  `${windowPairKey(window.pair)}#${window.windowStartMs}`;

/** Every provider/model pair of the catalogue, and each provider's model-less reports. */
export function pairsOf(providers: RoutingTable['providers']): WindowPair[] {
  return Object.entries(providers).flatMap(([provider, { models }]) => [
    ...Object.keys(models).map((model) => ({ provider, model })),
    { provider, model: null },
  ]);
}

const timesOf = (p50Ms: number | null, p95Ms: number | null, samples: number): MeasuredTimes | null =>
  p50Ms === null || p95Ms === null || samples === 0 ? null : { p50Ms, p95Ms, samples };

/** A pair's windows as the statistics a quote reads. */
export function pairEtaOf(windows: Parameters<typeof segmentStats>[0]): PairEta {
  const all = segmentStats(windows);
  const counts = windows.map((window) => window.counts);
  const segments = new Set(
    counts.flatMap((c) =>
      Object.keys(c)
        .filter((name) => name.startsWith('r:'))
        .map((name) => name.slice(2, name.lastIndexOf(':'))),
    ),
  );
  const run: Record<string, MeasuredTimes> = {};
  for (const segment of segments) {
    const stats = segmentStats(windows, segment);
    const times = timesOf(stats.runP50Ms, stats.runP95Ms, stats.runSamples);
    if (times) run[segment] = times;
  }
  return {
    run,
    runAll: timesOf(all.runP50Ms, all.runP95Ms, all.runSamples),
    queue: timesOf(all.queueP50Ms, all.queueP95Ms, all.queueSamples),
    attempts: all.attempts,
    succeeded: all.succeeded,
    chargedMicroUsd: all.chargedMicroUsd,
    chargedOutputMs: all.chargedOutputMs,
    fromMs: all.fromMs,
    toMs: all.toMs,
  };
}
