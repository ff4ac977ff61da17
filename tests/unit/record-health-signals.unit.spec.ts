/**
 * RecordHealthSignals, the batch path of the breakers: one read for the whole batch, decisions in
 * memory in arrival order, one register write per breaker — and the same answers, states and
 * transitions as recording each signal alone (recordHealthSignal), whatever the batching.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordHealthSignal, recordHealthSignals } from '../../src/commands/record-health-signal.ts';
import { VersionConflictError } from '../../src/errors.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
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

/** The in-memory store, counting each call; the first `conflicts` commits lost to another writer. */
function aCountingStore(conflicts = 0) {
  const log = new InMemoryRoutingLog();
  const inner = new InMemoryProviderHealthStore(log);
  const calls = { load: 0, readMany: 0, readForSignals: 0, commit: 0, raise: 0, readRegister: 0 };
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
    commit: async (change) => {
      calls.commit++;
      if (calls.commit <= conflicts)
        throw new VersionConflictError(`breaker#${change.state.key}`, change.expectedRev + 1);
      return inner.commit(change);
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
  return { store, calls, log };
}

describe('RecordHealthSignals (a batch into the breakers)', () => {
  it('given 95 successes and 4 counted failures of two breakers, when taken as one batch, then it reads once, raises each register once and commits only the failures', async () => {
    const { store, calls } = aCountingStore();
    const batch = Array.from({ length: 99 }, (_, i) =>
      aSignal(i % 25 === 12 ? 'counted' : 'success', i % 2 === 0 ? 'm-a' : 'm-b', i, `e${i}`),
    );
    const answers = await recordHealthSignals(batch, { store });
    expect(answers).toHaveLength(99);
    expect(answers.every((a) => a.outcome === 'recorded')).toBe(true);
    expect(calls).toEqual({ load: 0, readMany: 0, readForSignals: 1, commit: 4, raise: 1, readRegister: 0 });
    // Each breaker's register holds its newest success; each failure counted once.
    expect(await store.readSuccessRegister('fal#m-a')).toBe(batch[98]?.command.at);
    expect(await store.readSuccessRegister('fal#m-b')).toBe(batch[97]?.command.at);
    expect((await store.load({ provider: 'fal', model: 'm-a' })).rev).toBe(2);
  });

  it('given an empty batch, when taken, then nothing is read or written', async () => {
    const { store, calls } = aCountingStore();
    expect(await recordHealthSignals([], { store })).toEqual([]);
    expect(calls).toEqual({ load: 0, readMany: 0, readForSignals: 0, commit: 0, raise: 0, readRegister: 0 });
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

  it('given the first commit lost to a concurrent writer, when the batch is taken, then that signal reads its breaker and register again and the rest follow on the committed state', async () => {
    const { store, calls } = aCountingStore(1);
    const batch = [0, 1, 2].map((s) => aSignal('counted', 'm', s, `f${s}`));
    const answers = await recordHealthSignals(batch, { store, retry: noWait });
    expect(answers.map((a) => a.outcome)).toEqual(['recorded', 'recorded', 'recorded']);
    expect(calls).toMatchObject({ readForSignals: 1, load: 1, readRegister: 1, commit: 4 });
    expect(await store.load({ provider: 'fal', model: 'm' })).toMatchObject({
      rev: 3,
      state: { consecutiveFailures: 3 },
    });
  });

  it('given a failure recorded before, when it comes again in a batch, then it is a duplicate and the next failure commits on the breaker as read (no second read)', async () => {
    const { store, calls } = aCountingStore();
    const first = aSignal('counted', 'm', 0, 'f0');
    await recordHealthSignals([first], { store });
    const answers = await recordHealthSignals([first, aSignal('counted', 'm', 1, 'f1')], { store });
    expect(answers.map((a) => a.outcome)).toEqual(['duplicate', 'recorded']);
    expect(calls).toMatchObject({ readForSignals: 2, load: 0, commit: 3 });
    expect((await store.load({ provider: 'fal', model: 'm' })).state.consecutiveFailures).toBe(2);
  });

  it('given any signals of two breakers, some delivered again, in any batching, then the answers, breaker states and transitions equal those of one signal at a time', async () => {
    const kind = fc.constantFrom<Kind>('success', 'success', 'counted', 'counted', 'job', 'unknown');
    const signal = fc.record({ kind, model: fc.constantFrom('m-a', 'm-b'), seconds: fc.nat(900) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(signal, { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat(59), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }),
        async (drawn, repeats, sizes) => {
          const distinct = drawn.map((d, i) => aSignal(d.kind, d.model, d.seconds, `e${i}`));
          // Redelivered copies, later in the stream (often in another batch).
          const stream = [...distinct, ...repeats.map((r) => distinct[r % distinct.length] as HealthSignal)];
          const alone = aCountingStore();
          const expected = [];
          for (const s of stream) expected.push(await recordHealthSignal(s, { store: alone.store }));
          const batched = aCountingStore();
          const answers = [];
          for (let at = 0, b = 0; at < stream.length; b++) {
            const size = sizes[b % sizes.length] as number;
            answers.push(
              ...(await recordHealthSignals(stream.slice(at, at + size), { store: batched.store })),
            );
            at += size;
          }
          expect(answers).toEqual(expected);
          for (const model of ['m-a', 'm-b']) {
            const ref = { provider: 'fal', model };
            expect(await batched.store.load(ref)).toEqual(await alone.store.load(ref));
            expect(await batched.store.readSuccessRegister(`fal#${model}`)).toBe(
              await alone.store.readSuccessRegister(`fal#${model}`),
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
