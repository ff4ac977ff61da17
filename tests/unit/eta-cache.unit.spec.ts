import { describe, expect, it } from 'vitest';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import type { SignalWindowStore } from '../../src/ports/signal-windows.ts';
import { CachedEtaReader, openWindowsToRead, pairsOf } from '../../src/provider-health/eta-cache.ts';
import {
  closesAtOf,
  completedFact,
  startedFact,
  windowStartOf,
} from '../../src/provider-health/signal-windows.ts';
import { takeSlot } from '../../src/provider-health/slot-claims.ts';
import { countSignals } from '../../src/provider-health/window-counting.ts';
import { EMPTY_ETA } from '../../src/routing/eta.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';

const AT = Date.parse('2026-12-06T10:00:02.000Z');
const table = aTableWithConcurrency({ fal: 3 });
const succeeded = (key: string, atMs: number, runMs: number) =>
  completedFact({
    key,
    atMs,
    provider: 'fal',
    model: 'wan-i2v',
    outcome: 'succeeded',
    errorClass: null,
    runMs,
    job: { resolution: '720p', lengthSec: 8 },
  });

describe('the cached ETA reader', () => {
  it('given a busy pair with five open windows and a quiet pair with one older, when the open windows to read are chosen, then the quiet pair’s is among the six read, and each pair’s newest come first', () => {
    const busy = { provider: 'fal', model: 'wan-i2v' };
    const quiet = { provider: 'replicate', model: 'wan-i2v' };
    const other = { provider: 'veo', model: null };
    const chosen = openWindowsToRead([
      { pair: busy, open: [10_000, 20_000, 30_000, 40_000, 50_000] },
      { pair: quiet, open: [0] },
      { pair: other, open: [40_000, 50_000] },
    ]);
    expect(chosen).toEqual([
      { pair: busy, windowStartMs: 50_000 },
      { pair: other, windowStartMs: 50_000 },
      { pair: quiet, windowStartMs: 0 },
      { pair: busy, windowStartMs: 40_000 },
      { pair: other, windowStartMs: 40_000 },
      { pair: busy, windowStartMs: 30_000 },
    ]);
  });

  it('given runs counted in a window still open, when read, then they already count (provisionally), with the free slots', async () => {
    const windows = new InMemorySignalWindows();
    const ledger = new InMemorySlotLedger();
    await countSignals([succeeded('a', AT, 60_000)], { windows, now: () => AT });
    await countSignals(
      [startedFact({ key: 'b', atMs: AT, provider: 'fal', model: 'wan-i2v', queueWaitMs: 5_000 })],
      { windows, now: () => AT },
    );
    await takeSlot(ledger, {
      provider: 'fal',
      concurrency: 3,
      dispatchId: 'job-1:v1',
      atMs: AT,
      timeoutMs: 60_000,
    });
    const context = await new CachedEtaReader({ windows, ledger }).context(
      table.providers,
      new Date(AT + 1_000),
    );
    expect(context.pairs['fal#wan-i2v']).toMatchObject({
      run: { '720p|l10': { samples: 1 } },
      queue: { samples: 1 },
      attempts: 1,
      succeeded: 1,
      fromMs: windowStartOf(AT),
    });
    expect(context.slotsFree).toEqual({ fal: 2 });
  });

  it('given a due window, when read, then it is closed and counted once; within the cache period the store is not read again', async () => {
    const windows = new InMemorySignalWindows();
    await countSignals([succeeded('a', AT, 60_000)], { windows, now: () => AT });
    const reader = new CachedEtaReader({ windows }, { ttlMs: 5_000 });
    const later = closesAtOf(windowStartOf(AT));
    const first = await reader.context(table.providers, new Date(later));
    expect(first.pairs['fal#wan-i2v']?.runAll?.samples).toBe(1);
    expect(
      (await windows.readSummaries([{ provider: 'fal', model: 'wan-i2v' }])).get('fal#wan-i2v')?.open,
    ).toEqual([]);
    const [again, shared] = await Promise.all([
      reader.context(table.providers, new Date(later + 1_000)),
      reader.context(table.providers, new Date(later + 2_000)),
    ]);
    expect(again).toBe(first);
    expect(shared).toBe(first);
    expect(reader.reads).toBe(1);
    await reader.context(table.providers, new Date(later + 6_000));
    expect(reader.reads).toBe(2);
  });

  it('given concurrent first reads, then they share one refresh', async () => {
    const windows = new InMemorySignalWindows();
    const reader = new CachedEtaReader({ windows });
    await Promise.all([
      reader.context(table.providers, new Date(AT)),
      reader.context(table.providers, new Date(AT)),
    ]);
    expect(reader.reads).toBe(1);
  });

  it('given an unreadable store, when read, then the view is empty (every quote a default), never an error', async () => {
    const broken = {
      readSummaries: async () => Promise.reject(new Error('down')),
    } as unknown as SignalWindowStore;
    expect(await new CachedEtaReader({ windows: broken }).context(table.providers, new Date(AT))).toBe(
      EMPTY_ETA,
    );
  });

  it('given a catalogue, then every model and each provider’s model-less reports are pairs', () => {
    expect(pairsOf(table.providers)).toEqual([
      { provider: 'fal', model: 'wan-i2v' },
      { provider: 'fal', model: null },
      { provider: 'replicate', model: 'wan-2.1-i2v' },
      { provider: 'replicate', model: null },
    ]);
  });
});
