/**
 * The contract every SignalWindowStore must pass (in-memory twin in unit tests, DynamoDB Local in
 * integration tests): a key counted once whichever batches carry it, counters summed exactly per
 * window, a closed window immutable, summaries listing open windows and keeping the newest closed ones.
 */
import { describe, expect, it } from 'vitest';
import { type SignalWindowStore, windowPairKey, windowRefKey } from '../../src/ports/signal-windows.ts';
import {
  closeWindow,
  completedFact,
  foldFacts,
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
    it('given a signal stored, when the same key comes again in another batch, then its window counts it once', async () => {
      const store = await makeStore();
      const pair = aPair();
      const fact = startedFact({ key: `${pair.provider}-1`, atMs: AT, ...pair, queueWaitMs: 1_000 });
      const other = startedFact({ key: `${pair.provider}-2`, atMs: AT, ...pair, queueWaitMs: 1_000 });
      await store.ingest([fact]);
      // Redelivered alone, then in a batch composed differently: other groups, the same key.
      await store.ingest([fact]);
      await store.ingest([other, fact]);
      const ref = { pair, windowStartMs: fact.windowStartMs };
      const counts = (await store.readWindows([ref])).get(windowRefKey(ref));
      expect(counts).toEqual({ n: 2, 'q:7': 2 });
    });

    it('given a batch over two windows, when each window is read, then each holds its own exact sums and an empty one none', async () => {
      const store = await makeStore();
      const pair = aPair();
      const base = { ...pair, outcome: 'succeeded', errorClass: null, runMs: 30_000 };
      const a = completedFact({ ...base, atMs: AT, key: `${pair.provider}-a` });
      const b = completedFact({ ...base, atMs: AT + WINDOW_MS, key: `${pair.provider}-b` });
      const c = completedFact({ ...base, atMs: AT + WINDOW_MS, key: `${pair.provider}-c` });
      await store.ingest([a, b, c]);
      const first = { pair, windowStartMs: a.windowStartMs };
      const second = { pair, windowStartMs: b.windowStartMs };
      const empty = { pair, windowStartMs: a.windowStartMs + 2 * WINDOW_MS };
      const read = await store.readWindows([first, second, empty]);
      // Each window's sums, and the run summary of its breaker evidence (the reference fold's).
      expect(read.get(windowRefKey(first))).toEqual(foldFacts([a]));
      expect(read.get(windowRefKey(first))).toMatchObject(a.counts);
      expect(read.get(windowRefKey(second))).toEqual(foldFacts([b, c]));
      expect(read.get(windowRefKey(second))).toMatchObject(
        Object.fromEntries(Object.entries(b.counts).map(([k, v]) => [k, v * 2])),
      );
      expect(read.get(windowRefKey(empty))).toEqual({});
      // A bounded read takes the groups whose ids sort first: one of the two batches here.
      await store.ingest([completedFact({ ...base, atMs: AT, key: `${pair.provider}-z` })]);
      const sample = (await store.readWindows([first], { maxGroups: 1 })).get(windowRefKey(first));
      expect(sample?.n).toBe(1);
      expect((await store.readWindows([first])).get(windowRefKey(first))?.n).toBe(2);
    });

    it('given an open window, when it is closed, then the summary holds it and no longer lists it open', async () => {
      const store = await makeStore();
      const pair = aPair();
      const fact = startedFact({ key: `${pair.provider}-s`, atMs: AT, ...pair, queueWaitMs: 250 });
      await store.ingest([fact]);
      const before = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(before?.open).toEqual([fact.windowStartMs]);
      const ref = { pair, windowStartMs: fact.windowStartMs };
      const window = closeWindow(
        pair,
        fact.windowStartMs,
        (await store.readWindows([ref])).get(windowRefKey(ref)) ?? {},
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
      const first = closeWindow(pair, AT - (AT % WINDOW_MS), { n: 2 });
      expect(await store.storeClosed(first, 10)).toEqual(first);
      // The second closer is answered the record that stays, not its own sums: it reports and judges that.
      expect(await store.storeClosed({ ...first, counts: { n: 5 } }, 10)).toEqual(first);
      expect((await store.readClosed(pair, first.windowStartMs))?.counts).toEqual({ n: 2 });
      const summary = (await store.readSummaries([pair])).get(windowPairKey(pair));
      expect(summary?.closed.map((w) => w.counts)).toEqual([{ n: 2 }]);
    });

    it('given more closed windows than the summary keeps, when read, then only the newest remain, oldest first', async () => {
      const store = await makeStore();
      const pair = aPair();
      const start = AT - (AT % WINDOW_MS);
      for (let i = 0; i < 4; i++)
        await store.storeClosed(closeWindow(pair, start + i * WINDOW_MS, { n: i + 1 }), 2);
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
