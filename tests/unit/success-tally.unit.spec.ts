/**
 * Signals at any rate (issue 21): successes go to the success tally, never to a commit on the
 * breaker item; failures keep the fast path and fold the tally in before they count.
 */
import { describe, expect, it } from 'vitest';
import { recordHealthSignal, recordHealthSignals } from '../../src/commands/record-health-signal.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
import {
  attemptRoute,
  DEFAULT_BREAKER_CONFIG,
  handleHealthCommand,
  initialBreakerState,
  type RecordAttempt,
  tallyBucketsToRead,
  windowBucketStarts,
  windowTotals,
  withSuccessTally,
} from '../../src/provider-health/breaker.ts';
import { type HealthSignal, parseHealthSignal } from '../../src/provider-health/signals.ts';
import { SUCCESS_SHARDS, tallyShard } from '../../src/provider-health/success-tally.ts';
import { anAttemptEvent } from '../support/health-signals.ts';

const FAL = { provider: 'fal', model: 'wan-i2v' };

/** The in-memory store, counting commits on breaker items. */
function aCountingStore() {
  const inner = new InMemoryProviderHealthStore(new InMemoryRoutingLog());
  const counts = { commits: 0, tallyWrites: 0, tallyReads: 0 };
  const store: ProviderHealthStore = {
    load: (ref) => inner.load(ref),
    readMany: (refs) => inner.readMany(refs),
    commit: (change) => {
      counts.commits++;
      return inner.commit(change);
    },
    tallySuccesses: (entries) => {
      counts.tallyWrites++;
      return inner.tallySuccesses(entries);
    },
    readTally: (key, starts) => {
      counts.tallyReads++;
      return inner.readTally(key, starts);
    },
  };
  return { store, counts };
}

let n = 0;
function aSignal(outcome: 'succeeded' | 'failed_terminal', seconds: number, detail = {}): HealthSignal {
  n++;
  const parsed = parseHealthSignal(
    anAttemptEvent(
      { jobId: `job-${n}`, outcome, errorClass: outcome === 'succeeded' ? null : 'server_error', ...detail },
      { seconds },
    ),
  );
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.signal;
}

const status = async (store: ProviderHealthStore) => (await store.load(FAL)).state.status;

describe('successes go to the success tally', () => {
  it('given a closed breaker, when 100 successes are reported, then no breaker commit is made and each counts once', async () => {
    const { store, counts } = aCountingStore();
    const signals = Array.from({ length: 100 }, (_, i) => aSignal('succeeded', i % 20));
    for (const signal of signals) {
      expect(await recordHealthSignal(signal, { store })).toEqual({ outcome: 'recorded', transitions: [] });
    }
    // Redelivered: duplicates, nothing added.
    for (const signal of signals.slice(0, 10)) {
      expect(await recordHealthSignal(signal, { store })).toEqual({ outcome: 'duplicate' });
    }
    expect(counts.commits).toBe(0);
    expect(await store.readTally('fal#wan-i2v', [Date.parse(signals[0]?.command.at ?? '')])).toEqual([
      { start: Date.parse('2026-11-25T14:00:00.000Z'), successes: 100 },
    ]);
    expect((await store.load(FAL)).rev).toBe(0);
  });

  it('given a leased probe, when its success arrives, then it goes to the breaker; any other success goes to the tally', () => {
    const state = {
      ...initialBreakerState('fal', 'wan-i2v'),
      status: 'half_open' as const,
      probe: { dispatchId: 'job-p:v1', expiresAt: '2026-11-25T15:00:00.000Z' },
    };
    const success = (dispatchId: string): RecordAttempt => ({
      type: 'RecordAttempt',
      signalId: `s-${dispatchId}`,
      at: '2026-11-25T14:00:00.000Z',
      outcome: 'succeeded',
      errorClass: null,
      dispatchId,
    });
    expect(attemptRoute(state, success('job-p:v1'))).toBe('breaker');
    expect(attemptRoute(state, success('job-x:v1'))).toBe('tally');
    expect(attemptRoute(state, { ...success('job-x:v1'), outcome: 'failed_terminal' })).toBe('breaker');
  });

  it('given a success id, then its shard is stable and within the shard count', () => {
    const shards = new Set(Array.from({ length: 1000 }, (_, i) => tallyShard(`attempt-${i}`)));
    expect(tallyShard('attempt-7')).toBe(tallyShard('attempt-7'));
    expect(Math.max(...shards)).toBeLessThan(SUCCESS_SHARDS);
    expect(shards.size).toBe(SUCCESS_SHARDS);
  });
});

describe('the fast path: consecutive failures with successes off the breaker', () => {
  it('given successes before them, when 5 counted failures follow in a row, then the breaker opens at the fifth', async () => {
    const { store } = aCountingStore();
    for (let i = 0; i < 20; i++) await recordHealthSignal(aSignal('succeeded', i), { store });
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(await recordHealthSignal(aSignal('failed_terminal', 20 + i), { store }));
    expect(results.slice(0, 4).map((r) => r.outcome === 'recorded' && r.transitions.length)).toEqual([
      0, 0, 0, 0,
    ]);
    expect(results[4]).toMatchObject({
      outcome: 'recorded',
      transitions: [
        { status: 'open', reason: 'consecutive_failures', detail: '5 consecutive failures (server_error)' },
      ],
    });
  });

  it('given 4 failures, when a success arrives and then 4 more failures, then the breaker stays closed; a fifth in a row opens it', async () => {
    const { store } = aCountingStore();
    for (let i = 0; i < 4; i++) await recordHealthSignal(aSignal('failed_terminal', i), { store });
    await recordHealthSignal(aSignal('succeeded', 4), { store });
    for (let i = 0; i < 4; i++) await recordHealthSignal(aSignal('failed_terminal', 5 + i), { store });
    expect(await status(store)).toBe('closed');
    expect((await store.load(FAL)).state.consecutiveFailures).toBe(4);
    await recordHealthSignal(aSignal('failed_terminal', 9), { store });
    expect(await status(store)).toBe('open');
  });

  it('given failures and successes interleaved, when more than half of 10 attempts in 5 min failed, then it opens on the failure rate counting the tallied successes', async () => {
    const { store } = aCountingStore();
    const outcomes = ['F', 'S', 'F', 'S', 'F', 'S', 'F', 'S', 'F', 'F'] as const;
    let last: Awaited<ReturnType<typeof recordHealthSignal>> | undefined;
    for (const [i, o] of outcomes.entries()) {
      last = await recordHealthSignal(aSignal(o === 'F' ? 'failed_terminal' : 'succeeded', i * 10), {
        store,
      });
    }
    expect(last).toMatchObject({
      outcome: 'recorded',
      transitions: [{ status: 'open', reason: 'failure_rate', detail: '6 of 10 attempts failed in 5 min' }],
    });
  });

  it('given the breaker is open, when a failure arrives, then the tally is not read (nothing to decide)', async () => {
    const { store, counts } = aCountingStore();
    for (let i = 0; i < 5; i++) await recordHealthSignal(aSignal('failed_terminal', i), { store });
    const reads = counts.tallyReads;
    expect(await recordHealthSignal(aSignal('failed_terminal', 6), { store })).toEqual({
      outcome: 'unchanged',
    });
    expect(counts.tallyReads).toBe(reads);
  });
});

describe('a batch of signals', () => {
  it('given a batch with duplicates in it, when recorded, then successes share one tally write, each id counts once, and failures keep their order', async () => {
    const { store, counts } = aCountingStore();
    const s = Array.from({ length: 30 }, (_, i) => aSignal('succeeded', i));
    const f = Array.from({ length: 4 }, (_, i) => aSignal('failed_terminal', 30 + i));
    const batch = [...s, s[0], s[1], ...f, s[2]] as HealthSignal[];
    const results = await recordHealthSignals(batch, { store });
    expect(results.map((r) => r.outcome)).toEqual([
      ...Array(30).fill('recorded'),
      'duplicate',
      'duplicate',
      ...Array(4).fill('recorded'),
      'duplicate',
    ]);
    expect(counts.tallyWrites).toBe(2);
    expect(counts.commits).toBe(4);
    const [reading] = await store.readTally('fal#wan-i2v', [Date.parse('2026-11-25T14:00:00.000Z')]);
    expect(reading?.successes).toBe(30);
    expect((await store.load(FAL)).state.consecutiveFailures).toBe(4);
  });

  it('given 4 failures, a success and a failure in one batch, then the success resets the run as it would one at a time', async () => {
    const { store } = aCountingStore();
    const batch = [
      ...Array.from({ length: 4 }, (_, i) => aSignal('failed_terminal', i)),
      aSignal('succeeded', 4),
      aSignal('failed_terminal', 5),
    ];
    await recordHealthSignals(batch, { store });
    expect(await status(store)).toBe('closed');
    expect((await store.load(FAL)).state.consecutiveFailures).toBe(1);
  });
});

describe('which tally buckets a failure reads', () => {
  const failure = (at: string): RecordAttempt => ({
    type: 'RecordAttempt',
    signalId: 'f',
    at,
    outcome: 'failed_terminal',
    errorClass: 'timeout',
    dispatchId: null,
  });
  const t = Date.parse('2026-11-25T14:00:00.000Z');
  const { bucketMs, windowMs } = DEFAULT_BREAKER_CONFIG;

  it('given an empty window, then the whole window is read, and never more than windowMs / bucketMs + 1 buckets', () => {
    const read = tallyBucketsToRead(initialBreakerState('fal'), failure('2026-11-25T14:00:10.000Z'));
    expect(read).toHaveLength(windowMs / bucketMs + 1);
    expect(read.at(-1)).toBe(t);
  });

  it('given a previous failure two buckets ago, then only its bucket and the ones since are read', () => {
    const after = handleHealthCommand(initialBreakerState('fal'), failure('2026-11-25T14:00:00.000Z')).state;
    expect(tallyBucketsToRead(after, failure('2026-11-25T14:01:05.000Z'))).toEqual([
      t,
      t + bucketMs,
      t + 2 * bucketMs,
    ]);
  });

  it('given a success, an open breaker or a job-side failure, then nothing is read', () => {
    const closed = initialBreakerState('fal');
    expect(
      tallyBucketsToRead(closed, { ...failure('2026-11-25T14:00:00.000Z'), outcome: 'succeeded' }),
    ).toEqual([]);
    expect(
      tallyBucketsToRead(closed, { ...failure('2026-11-25T14:00:00.000Z'), errorClass: 'content_policy' }),
    ).toEqual([]);
    const open = { ...closed, status: 'open' as const, openUntil: '2026-11-25T15:00:00.000Z' };
    expect(tallyBucketsToRead(open, failure('2026-11-25T14:00:00.000Z'))).toEqual([]);
  });

  it('given a stale reading lower than what the breaker saw, when folded, then the bucket keeps the higher count and the run is not reset', () => {
    const first = handleHealthCommand(initialBreakerState('fal'), {
      ...failure('2026-11-25T14:00:01.000Z'),
      tally: [{ start: t, successes: 5 }],
    }).state;
    const second = handleHealthCommand(first, {
      ...failure('2026-11-25T14:00:02.000Z'),
      tally: [{ start: t, successes: 3 }],
    }).state;
    expect(second.window).toEqual([{ start: t, attempts: 2, failures: 2, tallied: 5 }]);
    expect(second.consecutiveFailures).toBe(2);
  });
});

describe('the health view with the success tally', () => {
  it('given 9 tallied successes and 1 failure on the item, when viewed, then the window shows 10 attempts, 90 % successful, and the stored state is unchanged', () => {
    const now = '2026-11-25T14:04:59.000Z';
    const starts = windowBucketStarts(now);
    expect(starts).toHaveLength(11);
    expect(starts.at(-1)).toBe(Date.parse('2026-11-25T14:04:30.000Z'));
    const failed = handleHealthCommand(initialBreakerState('fal'), {
      type: 'RecordAttempt',
      signalId: 'f1',
      at: '2026-11-25T14:04:00.000Z',
      outcome: 'failed_terminal',
      errorClass: 'timeout',
      dispatchId: null,
    }).state;
    const viewed = withSuccessTally(failed, now, [{ start: starts[9] as number, successes: 9 }]);
    expect(windowTotals(viewed.window, now, DEFAULT_BREAKER_CONFIG)).toEqual({ attempts: 10, failures: 1 });
    expect(windowTotals(failed.window, now, DEFAULT_BREAKER_CONFIG)).toEqual({ attempts: 1, failures: 1 });
  });
});
