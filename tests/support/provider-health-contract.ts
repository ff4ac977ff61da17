/**
 * The contract every ProviderHealthStore must pass (in-memory twin in unit tests, DynamoDB in
 * integration tests): atomic commits of state + marker + transitions, optimistic concurrency on the
 * revision, duplicates refused by signal id, batch reads.
 */

import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/errors.ts';
import type { HealthTransition } from '../../src/log/health-records.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import {
  handleHealthCommand,
  initialBreakerState,
  transitionsOf,
} from '../../src/provider-health/breaker.ts';

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

export function aTransition(
  provider: string,
  version = 1,
  overrides: Partial<HealthTransition> = {},
): HealthTransition {
  return {
    key: provider,
    provider,
    model: null,
    version,
    previousStatus: 'closed',
    status: 'open',
    mode: 'auto',
    reason: 'consecutive_failures',
    detail: '5 consecutive failures (server_error)',
    at: '2026-11-25T14:00:04.000Z',
    openUntil: '2026-11-25T14:01:00.000Z',
    openings: 1,
    causedBy: 'evt-5',
    actor: null,
    ...overrides,
  };
}

export function providerHealthContract(
  name: string,
  create: () =>
    | Promise<{ store: ProviderHealthStore; log: RoutingLog }>
    | { store: ProviderHealthStore; log: RoutingLog },
) {
  describe(`${name} honours the provider-health store contract`, () => {
    it('given a breaker never written, when loaded, then it is the initial state at rev 0 and readMany omits it', async () => {
      const { store } = await create();
      const provider = unique('p');
      expect(await store.load({ provider, model: 'm1' })).toEqual({
        state: initialBreakerState(provider, 'm1'),
        rev: 0,
      });
      expect((await store.readMany([{ provider, model: 'm1' }])).size).toBe(0);
    });

    it('given a commit with a transition, then the state, its rev and the log record are all written', async () => {
      const { store, log } = await create();
      const provider = unique('p');
      const transition = aTransition(provider);
      const state = {
        ...initialBreakerState(provider),
        status: 'open' as const,
        version: 1,
        openUntil: transition.openUntil,
      };
      const signalId = unique('sig');
      expect(
        await store.commit({ signalId, at: transition.at, expectedRev: 0, state, transitions: [transition] }),
      ).toBe('committed');
      expect(await store.load({ provider, model: null })).toEqual({ state, rev: 1 });
      expect(
        (
          await store.readMany([
            { provider, model: null },
            { provider, model: null },
          ])
        ).get(provider),
      ).toEqual({ state, rev: 1 });
      expect(await log.readStream(`health#${provider}`)).toMatchObject([
        { type: 'ProviderHealthChanged', data: { transition }, metadata: { version: 1, jobId: null } },
      ]);
    });

    it('given a committed signal, when the same signal is committed again, then it is a duplicate and nothing changes', async () => {
      const { store } = await create();
      const provider = unique('p');
      const signalId = unique('sig');
      const first = handleHealthCommand(initialBreakerState(provider), {
        type: 'RecordAttempt',
        signalId,
        at: '2026-11-25T14:00:00.000Z',
        outcome: 'failed_terminal',
        errorClass: 'timeout',
        dispatchId: null,
      });
      const commit = {
        signalId,
        at: '2026-11-25T14:00:00.000Z',
        state: first.state,
        transitions: transitionsOf(first.events),
      };
      expect(await store.commit({ ...commit, expectedRev: 0 })).toBe('committed');
      expect(await store.commit({ ...commit, expectedRev: 1 })).toBe('duplicate');
      expect((await store.load({ provider, model: null })).rev).toBe(1);
    });

    it('given a stale revision, when committing, then it conflicts and the stored state stands', async () => {
      const { store } = await create();
      const provider = unique('p');
      const state = initialBreakerState(provider);
      expect(
        await store.commit({
          signalId: unique('sig'),
          at: '2026-11-25T14:00:00.000Z',
          expectedRev: 0,
          state,
          transitions: [],
        }),
      ).toBe('committed');
      await expect(
        store.commit({
          signalId: unique('sig'),
          at: '2026-11-25T14:00:00.000Z',
          expectedRev: 0,
          state,
          transitions: [],
        }),
      ).rejects.toThrow(VersionConflictError);
      expect(
        await store.commit({
          signalId: null,
          at: '2026-11-25T14:00:00.000Z',
          expectedRev: 1,
          state,
          transitions: [],
        }),
      ).toBe('committed');
      expect((await store.load({ provider, model: null })).rev).toBe(2);
    });

    it('given a transition version already in the log, when committing it again, then it conflicts and no marker is left behind', async () => {
      const { store } = await create();
      const provider = unique('p');
      const state = initialBreakerState(provider);
      await store.commit({
        signalId: unique('sig'),
        at: '2026-11-25T14:00:00.000Z',
        expectedRev: 0,
        state,
        transitions: [aTransition(provider)],
      });
      const retried = unique('sig');
      await expect(
        store.commit({
          signalId: retried,
          at: '2026-11-25T14:00:00.000Z',
          expectedRev: 1,
          state,
          transitions: [aTransition(provider)],
        }),
      ).rejects.toThrow(VersionConflictError);
      // The refused commit wrote nothing: the same signal can still be committed.
      expect(
        await store.commit({
          signalId: retried,
          at: '2026-11-25T14:00:00.000Z',
          expectedRev: 1,
          state,
          transitions: [],
        }),
      ).toBe('committed');
    });

    it('given successes in and across batches, in any order and repeated, when the register is raised, then it holds the newest time and no breaker is written', async () => {
      const { store } = await create();
      const provider = unique('p');
      const other = unique('p');
      // Recent: DynamoDB Local deletes items whose TTL has passed (a register lives a day).
      const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
      const entry = (key: string, seconds: number) => ({
        key,
        at: new Date(base + seconds * 1000).toISOString(),
        signalId: `${key}-s${seconds}`,
      });
      expect(await store.readSuccessRegister(provider)).toBeNull();
      await store.raiseSuccessRegisters([entry(provider, 5), entry(provider, 9), entry(other, 2)]);
      // An older success later, a repeat, and one on another shard: the max only moves forward.
      await store.raiseSuccessRegisters([entry(provider, 3), entry(provider, 9)]);
      await store.raiseSuccessRegisters([entry(provider, 7)]);
      expect(await store.readSuccessRegister(provider)).toBe(entry(provider, 9).at);
      expect(await store.readSuccessRegister(other)).toBe(entry(other, 2).at);
      await store.raiseSuccessRegisters([entry(provider, 12)]);
      expect(await store.readSuccessRegister(provider)).toBe(entry(provider, 12).at);
      expect(await store.load({ provider, model: null })).toEqual({
        state: initialBreakerState(provider),
        rev: 0,
      });
    });

    it('given one breaker written and one register raised, when a batch reads them, then one read answers both: the breaker at its rev, the newest success, null for the rest', async () => {
      const { store } = await create();
      const written = unique('p');
      const fresh = unique('p');
      const state = initialBreakerState(written);
      await store.commit({
        signalId: unique('sig'),
        at: '2026-11-25T14:00:00.000Z',
        expectedRev: 0,
        state,
        transitions: [],
      });
      const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
      const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();
      await store.raiseSuccessRegisters([
        { key: written, at: at(4), signalId: `${written}-a` },
        { key: written, at: at(9), signalId: `${written}-b` },
      ]);
      await store.raiseSuccessRegisters([{ key: written, at: at(6), signalId: `${written}-c` }]);
      const { breakers, registers } = await store.readForSignals(
        [
          { provider: written, model: null },
          { provider: fresh, model: null },
          { provider: written, model: null },
        ],
        [written, fresh],
      );
      expect([...breakers]).toEqual([[written, { state, rev: 1 }]]);
      expect(Object.fromEntries(registers)).toEqual({ [written]: at(9), [fresh]: null });
    });

    it('given signals committed together, when a later commit carries one of them again, then it names that one, writes nothing, and commits without it', async () => {
      const { store, log } = await create();
      const provider = unique('p');
      const [a, b, c] = [unique('sig'), unique('sig'), unique('sig')];
      const at = '2026-11-25T14:00:00.000Z';
      const transition = aTransition(provider);
      const state = { ...initialBreakerState(provider), status: 'open' as const, version: 1 };
      const signals = (...ids: string[]) => ids.map((signalId) => ({ signalId, at }));
      expect(
        await store.commitSignals({
          signals: signals(a, b),
          at,
          expectedRev: 0,
          state,
          transitions: [transition],
        }),
      ).toEqual({ duplicates: [] });
      expect(await store.load({ provider, model: null })).toEqual({ state, rev: 1 });
      expect(await log.readStream(`health#${provider}`)).toHaveLength(1);
      // b was counted: the commit of b and c is refused as a whole, naming b.
      const next = { ...state, consecutiveFailures: 2 };
      expect(
        await store.commitSignals({
          signals: signals(c, b),
          at,
          expectedRev: 1,
          state: next,
          transitions: [],
        }),
      ).toEqual({ duplicates: [b] });
      expect((await store.load({ provider, model: null })).rev).toBe(1);
      expect(
        await store.commitSignals({ signals: signals(c), at, expectedRev: 1, state: next, transitions: [] }),
      ).toEqual({ duplicates: [] });
      expect(await store.load({ provider, model: null })).toEqual({ state: next, rev: 2 });
      // A stale revision: the conflict carries the breaker as stored, so a retry need not read it.
      const error = await store
        .commitSignals({ signals: signals(unique('sig')), at, expectedRev: 1, state, transitions: [] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictError);
      expect((error as VersionConflictError).existing).toEqual({ state: next, rev: 2 });
    });

    it('given signals marked without their breaker, when marked or committed again, then those are named, the others marked, and no breaker was written', async () => {
      const { store, log } = await create();
      const provider = unique('p');
      const [a, b, c] = [unique('sig'), unique('sig'), unique('sig')];
      const at = '2026-11-25T14:00:00.000Z';
      const signals = (...ids: string[]) => ids.map((signalId) => ({ signalId, at }));
      expect(await store.markSignals(signals(a, b))).toEqual({ duplicates: [] });
      // Each marker stands alone: b existed and is named, c is written all the same.
      expect(await store.markSignals(signals(b, c))).toEqual({ duplicates: [b] });
      expect(await store.markSignals(signals(c))).toEqual({ duplicates: [c] });
      // A commit that carries a marked signal is refused naming it, like any signal counted before.
      const state = { ...initialBreakerState(provider), consecutiveFailures: 1 };
      expect(
        await store.commitSignals({ signals: signals(a), at, expectedRev: 0, state, transitions: [] }),
      ).toEqual({ duplicates: [a] });
      expect(await store.load({ provider, model: null })).toEqual({
        state: initialBreakerState(provider),
        rev: 0,
      });
      expect(await log.readStream(`health#${provider}`)).toHaveLength(0);
    });
  });
}
