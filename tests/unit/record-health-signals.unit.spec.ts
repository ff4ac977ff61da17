/**
 * RecordHealthSignals, the batch path of the breakers: one read for the whole batch, decisions in
 * memory in arrival order, one append per breaker changed, one register write per breaker — and the
 * same answers, states and transitions as recording each signal alone (recordHealthSignal),
 * whatever the batching.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordHealthSignal, recordHealthSignals } from '../../src/commands/record-health-signal.ts';
import { CommandContendedError, VersionConflictError } from '../../src/errors.ts';
import { ANY_VERSION } from '../../src/log/breaker-records.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
import { breakerAsSeen, DEFAULT_BREAKER_CONFIG } from '../../src/provider-health/breaker.ts';
import { type HealthSignal, parseHealthSignal } from '../../src/provider-health/signals.ts';
import { anAttemptEvent } from '../support/health-signals.ts';

const noWait = { sleep: async () => {} };

type Kind = 'success' | 'counted' | 'job' | 'unknown';
const DETAILS: Record<Kind, Record<string, unknown>> = {
  success: { outcome: 'succeeded', errorClass: null },
  counted: { outcome: 'failed_terminal', errorClass: 'server_error' },
  job: { outcome: 'failed_terminal', errorClass: 'invalid_request' },
  unknown: { outcome: 'unknown', errorClass: null },
};

/** An attempt signal of `model`'s breaker at `seconds`, with a stable id (so a copy is a redelivery). */
function aSignal(kind: Kind, model: string, seconds: number, id: string): HealthSignal {
  const parsed = parseHealthSignal(
    anAttemptEvent({ model, jobId: `job-${id}`, ...DETAILS[kind] }, { id, seconds }),
  );
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.signal;
}

/** The in-memory store, counting each call; the first `conflicts` appends lost to another writer. */
function aCountingStore(conflicts = 0) {
  const log = new InMemoryRoutingLog();
  const inner = new InMemoryProviderHealthStore(log);
  const calls = { load: 0, readMany: 0, readForSignals: 0, append: 0, mark: 0, raise: 0, readRegister: 0 };
  const committed: number[] = [];
  const marked: number[] = [];
  const store: ProviderHealthStore = {
    load: (ref) => {
      calls.load++;
      return inner.load(ref);
    },
    readMany: (refs) => {
      calls.readMany++;
      return inner.readMany(refs);
    },
    readForSignals: (refs, keys) => {
      calls.readForSignals++;
      return inner.readForSignals(refs, keys);
    },
    appendToStream: async (stream, records, options) => {
      const { expectedVersion } = options;
      if (expectedVersion === ANY_VERSION) {
        // Markers alone, no breaker: counted apart from the appends that write the breaker.
        calls.mark++;
        const rev = await inner.appendToStream(stream, records, options);
        marked.push(records.length);
        return rev;
      }
      calls.append++;
      if (calls.append <= conflicts) throw new VersionConflictError(stream, expectedVersion + 1);
      const rev = await inner.appendToStream(stream, records, options);
      committed.push(records.filter((r) => r.type === 'HealthSignalCounted').length);
      return rev;
    },
    raiseSuccessRegisters: (entries) => {
      calls.raise++;
      return inner.raiseSuccessRegisters(entries);
    },
    readSuccessRegister: (key) => {
      calls.readRegister++;
      return inner.readSuccessRegister(key);
    },
  };
  return { store, calls, log, committed, marked };
}

describe('RecordHealthSignals (a batch into the breakers)', () => {
  it('given 95 successes and 4 counted failures of two breakers, when taken as one batch, then it reads once, appends once per breaker and raises the registers once', async () => {
    const { store, calls, committed } = aCountingStore();
    // Each breaker's last signal is a failure: its run outlasts the batch, so it is appended.
    const batch = Array.from({ length: 99 }, (_, i) =>
      aSignal(i % 25 === 12 || i >= 97 ? 'counted' : 'success', i % 2 === 0 ? 'm-a' : 'm-b', i, `e${i}`),
    );
    const answers = await recordHealthSignals(batch, { store });
    expect(answers).toHaveLength(99);
    expect(answers.every((a) => a.outcome === 'recorded')).toBe(true);
    expect(calls).toEqual({
      load: 0,
      readMany: 0,
      readForSignals: 1,
      append: 2,
      mark: 0,
      raise: 1,
      readRegister: 0,
    });
    expect(committed).toEqual([3, 3]);
    // Each breaker's register holds its newest success; each failure counted once.
    expect(await store.readSuccessRegister('fal#m-a')).toBe(batch[96]?.command.at);
    expect(await store.readSuccessRegister('fal#m-b')).toBe(batch[95]?.command.at);
    // One append per breaker: m-a's three failures moved its revision once.
    expect(await store.load({ provider: 'fal', model: 'm-a' })).toMatchObject({
      rev: 1,
      state: { consecutiveFailures: 1 },
    });
  });

  it('given counted failures each followed in the batch by a newer success of its breaker, when taken, then only their markers are written and nothing is appended to a breaker', async () => {
    const { store, calls, committed, marked } = aCountingStore();
    const batch = Array.from({ length: 99 }, (_, i) =>
      aSignal(i % 25 === 12 ? 'counted' : 'success', i % 2 === 0 ? 'm-a' : 'm-b', i, `e${i}`),
    );
    const answers = await recordHealthSignals(batch, { store });
    // The same answers as one signal at a time: each failure recorded (its marker), once.
    expect(answers.every((a) => a.outcome === 'recorded')).toBe(true);
    expect(calls).toMatchObject({ readForSignals: 1, append: 0, mark: 2, raise: 1 });
    expect(committed).toEqual([]);
    expect(marked).toEqual([2, 2]);
    // The breakers stay unwritten: as their next failure sees them, nothing is left of the run.
    for (const model of ['m-a', 'm-b']) {
      const { state, rev } = await store.load({ provider: 'fal', model });
      expect(rev).toBe(0);
      const seen = breakerAsSeen(state, await store.readSuccessRegister(`fal#${model}`));
      expect(seen).toMatchObject({ status: 'closed', run: [], consecutiveFailures: 0 });
    }
    // Redelivered, the failures are known by their markers.
    const again = await recordHealthSignals(batch, { store });
    expect(again.filter((a) => a.outcome === 'duplicate')).toHaveLength(4);
  });

  it('given 4 counted failures in a row, when a batch brings a fifth and then a newer success, then the fifth still opens the breaker (an append, not markers alone)', async () => {
    const { store, calls } = aCountingStore();
    await recordHealthSignals(
      [0, 1, 2, 3].map((s) => aSignal('counted', 'm', s, `f${s}`)),
      { store },
    );
    const fifth = aSignal('counted', 'm', 4, 'f4');
    const answers = await recordHealthSignals([fifth, aSignal('success', 'm', 5, 's5')], { store });
    expect(answers[0]).toMatchObject({
      outcome: 'recorded',
      transitions: [{ status: 'open', reason: 'consecutive_failures', causedBy: fifth.command.signalId }],
    });
    expect(calls).toMatchObject({ append: 2, mark: 0 });
    expect((await store.load({ provider: 'fal', model: 'm' })).state.status).toBe('open');
  });

  it("given a failure counted before, when it comes again in a batch whose newer success breaks it, then it answers duplicate and the batch's new failure is recorded", async () => {
    const { store, calls, marked } = aCountingStore();
    const first = aSignal('counted', 'm', 0, 'f0');
    await recordHealthSignals([first], { store });
    const waits: number[] = [];
    const answers = await recordHealthSignals(
      [first, aSignal('counted', 'm', 1, 'f1'), aSignal('success', 'm', 2, 's2')],
      { store, retry: { sleep: async (ms) => waits.push(ms) } },
    );
    expect(answers.map((a) => a.outcome)).toEqual(['duplicate', 'recorded', 'recorded']);
    // The markers of both failures were appended together and refused whole, naming f0 (nothing
    // written); decided again at once on the same read, f1's marker alone is appended.
    expect(calls).toMatchObject({ readForSignals: 2, append: 1, mark: 2 });
    expect(marked).toEqual([1]);
    expect(waits).toEqual([0]);
    expect((await store.load({ provider: 'fal', model: 'm' })).rev).toBe(1);
  });

  it('given an empty batch, when taken, then nothing is read or written', async () => {
    const { store, calls } = aCountingStore();
    expect(await recordHealthSignals([], { store })).toEqual([]);
    expect(calls).toEqual({
      load: 0,
      readMany: 0,
      readForSignals: 0,
      append: 0,
      mark: 0,
      raise: 0,
      readRegister: 0,
    });
  });

  it('given 4 failures, a success and a fifth failure in one batch, then the success breaks the run as it would one at a time, and the breaker stays closed', async () => {
    const { store } = aCountingStore();
    const batch = [
      ...[0, 1, 2, 3].map((s) => aSignal('counted', 'm', s, `f${s}`)),
      aSignal('success', 'm', 4, 's4'),
      aSignal('counted', 'm', 5, 'f5'),
    ];
    await recordHealthSignals(batch, { store });
    const { state } = await store.load({ provider: 'fal', model: 'm' });
    expect(state).toMatchObject({
      status: 'closed',
      consecutiveFailures: 1,
      successSeenAt: batch[4]?.command.at,
    });
  });

  it('given the first append lost to a concurrent writer, when the batch is taken, then the breaker and register are read again (one read) and its signals decided again and appended', async () => {
    const { store, calls, committed } = aCountingStore(1);
    const batch = [0, 1, 2].map((s) => aSignal('counted', 'm', s, `f${s}`));
    const answers = await recordHealthSignals(batch, { store, retry: noWait });
    expect(answers.map((a) => a.outcome)).toEqual(['recorded', 'recorded', 'recorded']);
    expect(calls).toMatchObject({ readForSignals: 2, load: 0, readRegister: 0, append: 2 });
    expect(committed).toEqual([3]);
    expect(await store.load({ provider: 'fal', model: 'm' })).toMatchObject({
      rev: 1,
      state: { consecutiveFailures: 3 },
    });
  });

  it('given another writer moving the breaker between the read and the append, when the batch appends, then it decides again on the breaker the refusal returned, without reading it', async () => {
    const { store, calls, committed } = aCountingStore();
    const other = aSignal('counted', 'm', 0, 'other');
    const appendToStream = store.appendToStream.bind(store);
    let raced = false;
    const racing: ProviderHealthStore = {
      ...store,
      appendToStream: async (stream, records, options) => {
        if (!raced) {
          raced = true;
          await recordHealthSignal(other, { store });
        }
        return appendToStream(stream, records, options);
      },
    };
    const answers = await recordHealthSignals([aSignal('counted', 'm', 1, 'f1')], {
      store: racing,
      retry: noWait,
    });
    expect(answers.map((a) => a.outcome)).toEqual(['recorded']);
    // The other writer's append, the batch's refused one, then the batch's on the returned breaker.
    expect(calls).toMatchObject({ readForSignals: 1, append: 3 });
    expect(committed).toEqual([1, 1]);
    expect(await store.load({ provider: 'fal', model: 'm' })).toMatchObject({
      rev: 2,
      state: { consecutiveFailures: 2 },
    });
  });

  it('given a breaker that keeps moving, when a batch appends on it, then it gives up with CommandContendedError and writes nothing', async () => {
    const { store, calls } = aCountingStore(Number.POSITIVE_INFINITY);
    const error = await recordHealthSignals([aSignal('counted', 'm', 0, 'f0')], {
      store,
      retry: noWait,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandContendedError);
    expect(calls.append).toBe(5);
    expect(await store.load({ provider: 'fal', model: 'm' })).toMatchObject({ rev: 0 });
  });

  it('given 30 counted failures of one breaker in one batch, then they are written in runs of at most 25, each on the breaker the one before left', async () => {
    const { store, committed, marked } = aCountingStore();
    const config = { ...DEFAULT_BREAKER_CONFIG, consecutiveFailuresToOpen: 1_000 };
    const batch = Array.from({ length: 30 }, (_, s) => aSignal('counted', 'm', s, `f${s}`));
    const answers = await recordHealthSignals(batch, { store, config });
    expect(answers.every((a) => a.outcome === 'recorded')).toBe(true);
    // The first 25 append; the last 5 come after the 8 failures the arrived run keeps (RUN_KEPT):
    // they change nothing on the breaker, so only their markers are written.
    expect(committed).toEqual([25]);
    expect(marked).toEqual([5]);
    // The breaker as the 30 signals leave it one at a time.
    const alone = aCountingStore();
    for (const signal of batch) await recordHealthSignal(signal, { store: alone.store, config });
    const ref = { provider: 'fal', model: 'm' };
    expect(await store.load(ref)).toEqual({ state: (await alone.store.load(ref)).state, rev: 1 });
  });

  it('given the same failure twice in one batch, then the copy answers duplicate and one marker is written', async () => {
    const { store, committed } = aCountingStore();
    const failure = aSignal('counted', 'm', 0, 'f0');
    const answers = await recordHealthSignals([failure, failure, aSignal('counted', 'm', 1, 'f1')], {
      store,
    });
    expect(answers.map((a) => a.outcome)).toEqual(['recorded', 'duplicate', 'recorded']);
    expect(committed).toEqual([2]);
    expect((await store.load({ provider: 'fal', model: 'm' })).state.consecutiveFailures).toBe(2);
  });

  it('given a failure recorded before, when it comes again in a batch, then the append names it, nothing is written, and the rest is decided again without it', async () => {
    const { store, calls, committed } = aCountingStore();
    const first = aSignal('counted', 'm', 0, 'f0');
    await recordHealthSignals([first], { store });
    const answers = await recordHealthSignals([first, aSignal('counted', 'm', 1, 'f1')], { store });
    expect(answers.map((a) => a.outcome)).toEqual(['duplicate', 'recorded']);
    // The first batch's append, the refused one naming f0, then f1 alone: no read in between.
    expect(calls).toMatchObject({ readForSignals: 2, load: 0, append: 3 });
    expect(committed).toEqual([1, 1]);
    expect((await store.load({ provider: 'fal', model: 'm' })).state.consecutiveFailures).toBe(2);
  });

  it('given any signals of two breakers, some delivered again, in any batching, then the answers, transitions, registers and breakers as their next failure sees them equal those of one signal at a time', async () => {
    const kind = fc.constantFrom<Kind>(
      'success',
      'success',
      'counted',
      'counted',
      'counted',
      'job',
      'unknown',
    );
    const model = fc.constantFrom('m-a', 'm-a', 'm-b');
    const signal = fc.record({ kind, model, seconds: fc.nat(900) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(signal, { minLength: 1, maxLength: 80 }),
        fc.array(fc.nat(59), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 8 }),
        // A breaker that never opens appends every counted failure: runs beyond one append's 25.
        fc.constantFrom(DEFAULT_BREAKER_CONFIG, {
          ...DEFAULT_BREAKER_CONFIG,
          consecutiveFailuresToOpen: 1_000,
        }),
        async (drawn, repeats, sizes, config) => {
          const distinct = drawn.map((d, i) => aSignal(d.kind, d.model, d.seconds, `e${i}`));
          // Redelivered copies, later in the stream (often in another batch).
          const stream = [...distinct, ...repeats.map((r) => distinct[r % distinct.length] as HealthSignal)];
          const alone = aCountingStore();
          const expected = [];
          for (const s of stream) expected.push(await recordHealthSignal(s, { store: alone.store, config }));
          const batched = aCountingStore();
          const answers = [];
          for (let at = 0, b = 0; at < stream.length; b++) {
            const size = sizes[b % sizes.length] as number;
            answers.push(
              ...(await recordHealthSignals(stream.slice(at, at + size), { store: batched.store, config })),
            );
            at += size;
          }
          expect(answers).toEqual(expected);
          for (const model of ['m-a', 'm-b']) {
            const ref = { provider: 'fal', model };
            // The same register, and the same breaker as its next failure sees it (the revision
            // counts appends: a batch appends fewer times, and not at all for a run a success broke).
            const register = await alone.store.readSuccessRegister(`fal#${model}`);
            expect(await batched.store.readSuccessRegister(`fal#${model}`)).toBe(register);
            expect(breakerAsSeen((await batched.store.load(ref)).state, register)).toEqual(
              breakerAsSeen((await alone.store.load(ref)).state, register),
            );
            expect(await batched.log.readStream(`health#fal#${model}`)).toEqual(
              await alone.log.readStream(`health#fal#${model}`),
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
