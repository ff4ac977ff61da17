import { describe, expect, it } from 'vitest';
import { changeProviderMode, recordHealthSignal } from '../../src/commands/record-health-signal.ts';
import { CommandContendedError, VersionConflictError } from '../../src/errors.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
import { type HealthSignal, parseHealthSignal } from '../../src/provider-health/signals.ts';
import { anAttemptEvent, aStatusEvent } from '../support/health-signals.ts';

const noWait = { sleep: async () => {} };

function aForceOpenSignal(): HealthSignal {
  const parsed = parseHealthSignal(aStatusEvent({ provider: 'fal', state: 'forced_open' }));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.signal;
}

/** The in-memory store, with the first `conflicts` appends lost to another writer. */
function aStoreLosing(conflicts: number) {
  const inner = new InMemoryProviderHealthStore(new InMemoryRoutingLog());
  const counts = { loads: 0, appends: 0 };
  const store: ProviderHealthStore = {
    load: (ref) => {
      counts.loads++;
      return inner.load(ref);
    },
    readMany: (refs) => inner.readMany(refs),
    readForSignals: (refs, keys) => inner.readForSignals(refs, keys),
    appendToStream: async (stream, records, options) => {
      counts.appends++;
      if (counts.appends <= conflicts)
        throw new VersionConflictError(stream, Number(options.expectedVersion) + 1);
      return inner.appendToStream(stream, records, options);
    },
    raiseSuccessRegisters: (entries) => inner.raiseSuccessRegisters(entries),
    readSuccessRegister: (key) => inner.readSuccessRegister(key),
  };
  return { store, counts };
}

describe('RecordHealthSignal in the command shape', () => {
  it('given one append lost to a concurrent writer, when a signal is recorded, then it reads the breaker again and records it', async () => {
    const { store, counts } = aStoreLosing(1);
    const result = await recordHealthSignal(aForceOpenSignal(), { store, retry: noWait });
    expect(result).toMatchObject({ outcome: 'recorded' });
    expect(counts).toEqual({ loads: 2, appends: 2 });
  });

  it('given a breaker that keeps changing, when a signal is recorded, then it fails with CommandContendedError for EventBridge to retry', async () => {
    const { store, counts } = aStoreLosing(Number.POSITIVE_INFINITY);
    const error = await recordHealthSignal(aForceOpenSignal(), { store, retry: noWait }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandContendedError);
    expect(error).toMatchObject({ reason: 'contended', stream: 'health#fal', attempts: 5 });
    expect(counts.appends).toBe(5);
  });

  it('given a failure counted before, when it is recorded again, then the refused append names it and it is decided again at once on the same read, a duplicate', async () => {
    const { store, counts } = aStoreLosing(0);
    const parsed = parseHealthSignal(anAttemptEvent({ model: 'wan-i2v' }));
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(await recordHealthSignal(parsed.signal, { store })).toMatchObject({ outcome: 'recorded' });
    const waits: number[] = [];
    counts.loads = 0;
    counts.appends = 0;
    const again = await recordHealthSignal(parsed.signal, {
      store,
      retry: { sleep: async (ms: number) => void waits.push(ms) },
    });
    expect(again).toEqual({ outcome: 'duplicate' });
    expect(counts).toEqual({ loads: 1, appends: 1 });
    expect(waits).toEqual([0]);
    expect((await store.load({ provider: 'fal', model: 'wan-i2v' })).rev).toBe(1);
  });

  it('given the same operator request twice, when recorded, then the second finds it done and records nothing', async () => {
    const store = new InMemoryProviderHealthStore(new InMemoryRoutingLog());
    const request = {
      ref: { provider: 'fal', model: null },
      mode: 'forced_open' as const,
      actor: 'ops',
      why: 'incident',
      at: '2026-11-25T14:00:00.000Z',
    };
    const first = await changeProviderMode(request, { store });
    const second = await changeProviderMode(request, { store });
    expect(first).toMatchObject({ outcome: 'recorded', modeBefore: 'auto' });
    expect(second).toMatchObject({ modeBefore: 'forced_open' });
    expect(second.outcome).not.toBe('recorded');
  });
});
