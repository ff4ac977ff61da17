import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../src/batching/for-each-bounded.ts';

describe('forEachBounded', () => {
  it('given 25 items and a limit of 4, when run, then every item is done once and never more than 4 at a time', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachBounded(
      Array.from({ length: 25 }, (_, i) => i),
      4,
      async (item, index) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await Promise.resolve();
        expect(index).toBe(item);
        seen.push(item);
        inFlight--;
      },
    );
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('given no items, when run, then nothing is called', async () => {
    let calls = 0;
    await forEachBounded([], 3, async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });

  it('given a failing item, when run, then the failure propagates', async () => {
    await expect(
      forEachBounded([1, 2, 3], 2, async (item) => {
        if (item === 2) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});

describe('forEachBounded after a failure', () => {
  it('given the second item fails, when run with a limit of 2, then no item after the ones in flight is started and it rejects with that failure once they settle', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const failure = new Error('throttled');
    const outcome = forEachBounded(
      Array.from({ length: 10 }, (_, i) => i),
      2,
      async (item) => {
        started.push(item);
        await new Promise((resolve) => setImmediate(resolve));
        if (item === 1) throw failure;
        settled.push(item);
      },
    );
    await expect(outcome).rejects.toBe(failure);
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toEqual([0, 2]);
  });

  it('given two items fail, when run, then it rejects with the failure that came first', async () => {
    await expect(
      forEachBounded([1, 2], 2, async (item) => {
        await new Promise((resolve) => setTimeout(resolve, item === 1 ? 5 : 0));
        throw new Error(`item ${item}`);
      }),
    ).rejects.toThrow('item 2');
  });
});
