import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../src/async/for-each-bounded.ts';

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
