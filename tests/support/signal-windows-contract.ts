/**
 * The contract every SignalWindowStore must pass (in-memory twin in unit tests, DynamoDB Local in
 * integration tests): a key counted once, counters summed exactly per shard, a closed window
 * immutable, summaries listing open windows and keeping the newest closed ones.
 */
import { describe, expect, it } from 'vitest';
import { type SignalWindowStore, windowPairKey, windowRefKey } from '../../src/ports/signal-windows.ts';
import {
  closeWindow,
  completedFact,
  startedFact,
  WINDOW_MS,
} from '../../src/provider-health/signal-windows.ts';

let counter = 0;
const aPair = () => ({ provider: `p${Date.now().toString(36)}-${++counter}`, model: 'm1' });
const AT = Date.parse('2026-12-06T10:00:03.000Z');

export function signalWindowsContract(
  name: string,
  makeStore: () => SignalWindowStore | Promise<SignalWindowStore>,
) {
  describe(`${name} (signal windows contract)`, () => {
    it('given a signal counted, when the same key comes again, then it is a duplicate and counted once', async () => {
      const store = await makeStore();
      const pair = aPair();
      const fact = startedFact({ key: 'k-1', atMs: AT, ...pair, queueWaitMs: 1_000 });
      expect(await store.ingest({ ...fact, key: `${pair.provider}-1` })).toBe('counted');
      expect(await store.ingest({ ...fact, key: `${pair.provider}-1` })).toBe('duplicate');
      const ref = { pair, windowStartMs: fact.windowStartMs };
      const shards = (await store.readShards([ref], 16)).get(windowRefKey(ref)) ?? [];
      const window = closeWindow(pair, fact.windowStartMs, shards);
      expect(window.counts).toEqual(fact.counts);
    });

    it('given signals in two shards, when the shards are read, then each holds its own exact sums', async () => {
      const store = await makeStore();
      const pair = aPair();
      const base = { atMs: AT, ...pair, outcome: 'succeeded', errorClass: null, runMs: 30_000 };
      const a = { ...completedFact({ ...base, key: `${pair.provider}-a` }), shard: 0 };
      const b = { ...completedFact({ ...base, key: `${pair.provider}-b` }), shard: 3 };
      await store.ingest(a);
      await store.ingest(b);
      await store.ingest({ ...b, key: `${pair.provider}-c` });
      const ref = { pair, windowStartMs: a.windowStartMs };
      const other = { pair, windowStartMs: a.windowStartMs + WINDOW_MS };
      const read = await store.readShards([ref, other], 4);
      expect(read.get(windowRefKey(other))).toEqual([{}, {}, {}, {}]);
      const shards = read.get(windowRefKey(ref)) ?? [];
      expect(shards[0]).toEqual(a.counts);
      expect(shards[3]).toEqual(Object.fromEntries(Object.entries(b.counts).map(([k, v]) => [k, v * 2])));
      expect(shards[1]).toEqual({});
    });

    it('given an open window, when it is closed, then the summary holds it and no longer lists it open', async () => {
      const store = await makeStore();
      const pair = aPair();
      const fact = startedFact({ key: `${pair.provider}-s`, atMs: AT, ...pair, queueWaitMs: 250 });
      await store.ingest(fact);
      const before = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(before?.open).toEqual([fact.windowStartMs]);
      const ref = { pair, windowStartMs: fact.windowStartMs };
      const window = closeWindow(
        pair,
        fact.windowStartMs,
        (await store.readShards([ref], 16)).get(windowRefKey(ref)) ?? [],
      );
      await store.storeClosed(window, 10);
      const after = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(after?.open).toEqual([]);
      expect(after?.closed.map((w) => [w.id, w.counts])).toEqual([[window.id, window.counts]]);
      expect((await store.readClosed(pair, fact.windowStartMs))?.counts).toEqual(window.counts);
    });

    it('given a closed window, when it is closed again with other sums, then the first record stays', async () => {
      const store = await makeStore();
      const pair = aPair();
      const first = closeWindow(pair, AT - (AT % WINDOW_MS), [{ n: 2 }]);
      await store.storeClosed(first, 10);
      await store.storeClosed({ ...first, counts: { n: 5 } }, 10);
      expect((await store.readClosed(pair, first.windowStartMs))?.counts).toEqual({ n: 2 });
      const summary = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(summary?.closed.map((w) => w.counts)).toEqual([{ n: 2 }]);
    });

    it('given more closed windows than the summary keeps, when read, then only the newest remain, oldest first', async () => {
      const store = await makeStore();
      const pair = aPair();
      const start = AT - (AT % WINDOW_MS);
      for (let i = 0; i < 4; i++)
        await store.storeClosed(closeWindow(pair, start + i * WINDOW_MS, [{ n: i + 1 }]), 2);
      const summary = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(summary?.closed.map((w) => w.windowStartMs)).toEqual([
        start + 2 * WINDOW_MS,
        start + 3 * WINDOW_MS,
      ]);
      expect(summary?.closed.map((w) => w.windowEndMs - w.windowStartMs)).toEqual([WINDOW_MS, WINDOW_MS]);
    });

    it('given a pair never signalled, when its summary is read, then it is empty', async () => {
      const store = await makeStore();
      const pair = aPair();
      const summary = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(summary?.closed ?? []).toEqual([]);
      expect(summary?.open ?? []).toEqual([]);
      expect(await store.readClosed(pair, 0)).toBeUndefined();
    });
  });
}
