import { describe, expect, it } from 'vitest';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import { windowPairKey } from '../../src/ports/signal-windows.ts';
import {
  bucketOf,
  closesAtOf,
  closeWindow,
  completedFact,
  dueWindows,
  factGroups,
  foldFacts,
  foldWindows,
  HISTOGRAM_BOUNDS_MS,
  histogramOf,
  isDue,
  isLate,
  lengthBucketOf,
  parseFacts,
  quantileMs,
  recentWindows,
  segmentOf,
  segmentStats,
  startedFact,
  sumCounts,
  WINDOW_GRACE_MS,
  WINDOW_MS,
  WINDOW_SETTLE_MS,
  windowStartOf,
} from '../../src/provider-health/signal-windows.ts';
import {
  closeDueWindows,
  countSignals,
  ThrottledWindowCloser,
} from '../../src/provider-health/window-counting.ts';

const AT = Date.parse('2026-12-06T10:00:04.000Z');
const pair = { provider: 'fal', model: 'wan-i2v' };
const success = (key: string, runMs: number, extra: Record<string, unknown> = {}) =>
  completedFact({
    key,
    atMs: AT,
    ...pair,
    outcome: 'succeeded',
    errorClass: null,
    runMs,
    job: { resolution: '720p', lengthSec: 5 },
    ...extra,
  });

describe('histogram buckets', () => {
  it('given durations, when bucketed, then each lands in the first bucket whose bound holds it, every bound finite', () => {
    expect(HISTOGRAM_BOUNDS_MS[0]).toBe(100);
    expect(HISTOGRAM_BOUNDS_MS.every(Number.isFinite)).toBe(true);
    expect(HISTOGRAM_BOUNDS_MS.at(-1)).toBeGreaterThanOrEqual(7 * 24 * 3600 * 1000);
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(100)).toBe(0);
    expect(bucketOf(101)).toBe(1);
    expect(HISTOGRAM_BOUNDS_MS[bucketOf(60_000)]).toBeGreaterThanOrEqual(60_000);
    expect(HISTOGRAM_BOUNDS_MS[bucketOf(60_000)]).toBeLessThan(60_000 * Math.SQRT2);
    expect(bucketOf(Number.MAX_VALUE)).toBe(HISTOGRAM_BOUNDS_MS.length - 1);
  });

  it('given a histogram, when quantiles are asked, then they are the bound of the bucket holding that rank', () => {
    const histogram = new Map([
      [bucketOf(1_000), 9],
      [bucketOf(100_000), 1],
    ]);
    expect(quantileMs(histogram, 0.5)).toBe(HISTOGRAM_BOUNDS_MS[bucketOf(1_000)]);
    expect(quantileMs(histogram, 0.95)).toBe(HISTOGRAM_BOUNDS_MS[bucketOf(100_000)]);
    expect(quantileMs(new Map(), 0.5)).toBeNull();
  });

  it('given counters with foreign or out-of-range bucket names, when read as a histogram, then they are ignored', () => {
    expect([...histogramOf({ 'q:3': 2, 'q:x': 1, 'q:999': 4, 'q:-1': 1, 'q:4': 0 }, 'q:')]).toEqual([[3, 2]]);
  });
});

describe('segments and windows', () => {
  it('given lengths, when bucketed, then they fall in the documented buckets', () => {
    expect([1, 5, 6, 10, 30, 60, 120, 121].map(lengthBucketOf)).toEqual([
      'l5',
      'l5',
      'l10',
      'l10',
      'l30',
      'l60',
      'l120',
      'l+',
    ]);
    expect(segmentOf({ resolution: '1080p', lengthSec: 8 })).toBe('1080p|l10');
  });

  it('given event times, when windowed, then windows are aligned tumbling slices, admitting until their grace ends and due after their settle', () => {
    const admissionEnds = windowStartOf(AT) + WINDOW_MS + WINDOW_GRACE_MS;
    expect(windowStartOf(AT)).toBe(AT - 4_000);
    expect(isLate(windowStartOf(AT), admissionEnds - 1)).toBe(false);
    expect(isLate(windowStartOf(AT), admissionEnds)).toBe(true);
    expect(isDue(windowStartOf(AT), admissionEnds + WINDOW_SETTLE_MS - 1)).toBe(false);
    expect(isDue(windowStartOf(AT), admissionEnds + WINDOW_SETTLE_MS)).toBe(true);
  });

  it('given a batch, when grouped, then there is one group per window, its id from its sorted keys only, a repeated key written once', () => {
    const later = { ...success('c', 1_000), windowStartMs: windowStartOf(AT) + WINDOW_MS };
    const groups = factGroups([success('b', 1_000), success('a', 1_000), later, success('a', 1_000)]);
    expect(groups.map((g) => [g.windowStartMs, g.facts.map((f) => f.key)])).toEqual([
      [windowStartOf(AT), ['a', 'b']],
      [windowStartOf(AT) + WINDOW_MS, ['c']],
    ]);
    // Another arrival order, the same groups; another composition, another id.
    expect(factGroups([later, success('a', 1_000), success('b', 1_000)])).toEqual(groups);
    expect(factGroups([success('a', 1_000)])[0]?.id).not.toBe(groups[0]?.id);
    expect(groups[0]?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(parseFacts(groups[0]?.text ?? '')).toEqual(groups[0]?.facts);
  });

  it('given a batch larger than a group holds, when grouped, then it is split by bytes in key order and each part stays within the limit', () => {
    const facts = Array.from({ length: 50 }, (_, i) => success(`k${String(i).padStart(2, '0')}`, 1_000));
    const groups = factGroups(facts, 1_000);
    expect(groups.length).toBeGreaterThan(1);
    for (const group of groups) expect(Buffer.byteLength(group.text)).toBeLessThanOrEqual(1_000);
    expect(groups.flatMap((g) => g.facts.map((f) => f.key))).toEqual(facts.map((f) => f.key));
    expect(new Set(groups.map((g) => g.id)).size).toBe(groups.length);
  });

  it('given copies of a key with different counters, when folded, then one copy counts, the same whichever order', () => {
    const a = { key: 'k', counts: { n: 1, x: 1 } };
    const b = { key: 'k', counts: { n: 1, y: 1 } };
    expect(foldFacts([a, b])).toEqual(foldFacts([b, a]));
    expect(foldFacts([a, b, { key: 'j', counts: { n: 1 } }]).n).toBe(2);
  });

  it('given a started signal, then it counts one queue-wait sample for the pair', () => {
    const fact = startedFact({ key: 's', atMs: AT, ...pair, queueWaitMs: 2_500 });
    expect(fact.counts).toEqual({ n: 1, [`q:${bucketOf(2_500)}`]: 1 });
    expect(fact.windowStartMs).toBe(windowStartOf(AT));
  });

  it('given completions, then outcomes, classes, run times and charges are counted in the job segment', () => {
    const ok = success('a', 30_000, { costUsd: 0.25 });
    expect(ok.counts).toEqual({
      n: 1,
      'o:succeeded': 1,
      'b:a': 1,
      's:720p|l5:succeeded': 1,
      [`r:720p|l5:${bucketOf(30_000)}`]: 1,
      'u:720p|l5': 250_000,
      'us:720p|l5': 5_000,
    });
    const failed = completedFact({
      key: 'b',
      atMs: AT,
      ...pair,
      outcome: 'failed_terminal',
      errorClass: null,
    });
    expect(failed.counts).toEqual({ n: 1, 'o:failed_terminal': 1, 's:*:failed_terminal': 1, 'e:-': 1 });
    const classed = completedFact({
      key: 'c',
      atMs: AT,
      ...pair,
      outcome: 'failed_retryable',
      errorClass: 'timeout',
    });
    expect(classed.counts['e:timeout']).toBe(1);
    // The breaker's evidence: a provider-side failure is an attempt and a failure; `unknown` is neither.
    expect([classed.counts['b:a'], classed.counts['b:f']]).toEqual([1, 1]);
    const unknown = completedFact({ key: 'd', atMs: AT, ...pair, outcome: 'unknown', errorClass: 'timeout' });
    expect([unknown.counts['b:a'], unknown.counts['b:f']]).toEqual([undefined, undefined]);
  });

  it('given the same facts in any order with repeats, when folded, then the windows are identical', () => {
    const facts = [
      success('a', 1_000),
      success('b', 90_000),
      startedFact({ key: 'c', atMs: AT + WINDOW_MS, ...pair, queueWaitMs: 10 }),
    ];
    const forward = foldWindows(facts);
    const backward = foldWindows([...facts].reverse().concat(facts));
    expect(backward).toEqual(forward);
    expect(forward.map((w) => w.id)).toEqual([
      `fal#wan-i2v#${windowStartOf(AT)}`,
      `fal#wan-i2v#${windowStartOf(AT) + WINDOW_MS}`,
    ]);
    expect(forward[0]?.counts.n).toBe(2);
  });

  it('given counters, when summed, then zeros and non-finite values drop out and names are sorted', () => {
    expect(
      sumCounts([
        { b: 1, a: 2 },
        { b: -1, c: Number.NaN, a: 1 },
      ]),
    ).toEqual({ a: 3 });
    expect(Object.keys(sumCounts([{ z: 1, a: 1 }]))).toEqual(['a', 'z']);
  });
});

describe('segment statistics', () => {
  const windows = foldWindows([
    ...Array.from({ length: 19 }, (_, i) => success(`s${i}`, 60_000, { costUsd: 0.5 })),
    success('slow', 600_000),
    completedFact({
      key: 'f',
      atMs: AT,
      ...pair,
      outcome: 'failed_terminal',
      errorClass: 'bad_input',
      job: { resolution: '720p', lengthSec: 5 },
    }),
    success('other', 5_000, { job: { resolution: '1080p', lengthSec: 60 } }),
    startedFact({ key: 'q1', atMs: AT, ...pair, queueWaitMs: 3_000 }),
  ]);

  it('given windows, when a segment is asked, then its percentiles, success rate and charge come from that segment', () => {
    const stats = segmentStats(windows, '720p|l5');
    expect(stats.runSamples).toBe(20);
    expect(stats.runP50Ms).toBe(HISTOGRAM_BOUNDS_MS[bucketOf(60_000)]);
    expect(stats.runP95Ms).toBe(HISTOGRAM_BOUNDS_MS[bucketOf(60_000)]);
    expect(stats).toMatchObject({
      attempts: 21,
      succeeded: 20,
      chargedMicroUsd: 19 * 500_000,
      chargedOutputMs: 19 * 5_000,
    });
    expect(stats.queueP50Ms).toBe(HISTOGRAM_BOUNDS_MS[bucketOf(3_000)]);
    expect(stats.windows).toBe(1);
    expect(stats.toMs).toBe((stats.fromMs as number) + WINDOW_MS);
  });

  it('given windows, when no segment is asked, then every segment counts', () => {
    const stats = segmentStats(windows);
    expect(stats.runSamples).toBe(21);
    expect(stats.attempts).toBe(22);
    expect(stats.runP50Ms).toBe(HISTOGRAM_BOUNDS_MS[bucketOf(60_000)]);
  });

  it('given no windows, then there are no samples and no window bounds', () => {
    expect(segmentStats([], '720p|l5')).toMatchObject({
      runP50Ms: null,
      queueP95Ms: null,
      fromMs: null,
      toMs: null,
      windows: 0,
    });
  });

  it('given a summary, when filtered by horizon, then only recent closed windows count', () => {
    const summary = { pair, closed: windows, open: [windowStartOf(AT), 0] };
    expect(recentWindows(summary, AT, 60_000)).toHaveLength(1);
    expect(recentWindows(summary, AT + 3_600_000, 60_000)).toHaveLength(0);
    expect(recentWindows(undefined, AT, 1)).toEqual([]);
    expect(dueWindows(summary, AT)).toEqual([0]);
    expect(dueWindows(undefined, AT)).toEqual([]);
  });
});

describe('counting and closing', () => {
  it('given signals counted in memory, when their window is due, then closing stores the reference fold and empties the open list', async () => {
    const windows = new InMemorySignalWindows();
    let now = AT + 1_000;
    const facts = [success('a', 1_000), success('b', 2_000), success('a', 1_000)];
    // A first delivery, then a redelivery of one signal in a batch of its own: counted once on reading.
    expect(await countSignals(facts.slice(0, 2), { windows, now: () => now })).toEqual([
      'counted',
      'counted',
    ]);
    expect(await countSignals(facts.slice(2), { windows, now: () => now })).toEqual(['counted']);
    const early = await closeDueWindows([pair], { windows, now: () => now });
    expect(early.closed).toEqual([]);
    now = closesAtOf(windowStartOf(AT));
    const { closed, summaries } = await closeDueWindows([pair, { provider: 'other', model: null }], {
      windows,
      now: () => now,
    });
    expect(closed).toEqual(foldWindows(facts));
    expect(summaries.get(windowPairKey(pair))).toEqual({ pair, closed, open: [] });
    expect(summaries.get('other#-')).toEqual({
      pair: { provider: 'other', model: null },
      closed: [],
      open: [],
    });
    expect(await countSignals([success('late', 1)], { windows, now: () => now })).toEqual(['late']);
  });

  it('given a throttled closer, when asked twice within its period, then only the first reads the store', async () => {
    const windows = new InMemorySignalWindows();
    let now = AT;
    const closer = new ThrottledWindowCloser({ windows, now: () => now }, { everyMs: 1_000 });
    expect(await closer.closeDue([pair, pair])).toHaveLength(1);
    expect(await closer.closeDue([pair])).toEqual([]);
    expect(windows.reads).toBe(1);
    now += 1_000;
    const [again] = await closer.closeDue([pair]);
    expect(again?.summary.pair).toEqual(pair);
    expect(windows.reads).toBe(2);
  });

  it('given a closed window, then its id and bounds come from its pair and start only', () => {
    const window = closeWindow({ provider: 'fal', model: null }, 20_000, { n: 3, zero: 0 });
    expect(window).toEqual({
      id: 'fal#-#20000',
      pair: { provider: 'fal', model: null },
      windowStartMs: 20_000,
      windowEndMs: 30_000,
      counts: { n: 3 },
    });
  });
});
