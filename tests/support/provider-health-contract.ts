/**
 * The contract every ProviderHealthStore must pass (in-memory twin in unit tests, DynamoDB in
 * integration tests): the one append contract on a breaker's stream — signals counted, transitions
 * and state written atomically at the expected revision; a moved revision, a signal counted before
 * or a taken transition version refused with VersionConflictError saying what it found, nothing
 * written; counted signals' markers alone with no expected version (ANY_VERSION), all or none —
 * plus the success register and the batch read.
 */

import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/errors.ts';
import {
  ANY_VERSION,
  type BreakerChange,
  type BreakerRecord,
  breakerRecordsOf,
  countedRecordsOf,
} from '../../src/log/breaker-records.ts';
import type { HealthTransition } from '../../src/log/health-records.ts';
import { InvalidAppendError, streamForHealth } from '../../src/log/routing-records.ts';
import type { BreakerConflict, ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
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

/** Appends `change` to its breaker's stream at revision `rev`: the new revision, or the error thrown. */
export const appendChange = (store: ProviderHealthStore, change: BreakerChange, rev: number) =>
  store.appendToStream(streamForHealth(change.state.key), breakerRecordsOf(change), { expectedVersion: rev });

/** The error an append throws (it must throw). */
async function refusal(append: Promise<unknown>): Promise<unknown> {
  return append.then(
    () => expect.fail('the append was expected to be refused'),
    (error: unknown) => error,
  );
}

export function providerHealthContract(
  name: string,
  create: () =>
    | Promise<{ store: ProviderHealthStore; log: RoutingLog }>
    | { store: ProviderHealthStore; log: RoutingLog },
) {
  describe(`${name} honours the provider-health store contract`, () => {
    const AT = '2026-11-25T14:00:00.000Z';
    const signal = (signalId: string, at = AT) => ({ signalId, at });

    it('given a breaker never written, when loaded, then it is the initial state at rev 0 and readMany omits it', async () => {
      const { store } = await create();
      const provider = unique('p');
      expect(await store.load({ provider, model: 'm1' })).toEqual({
        state: initialBreakerState(provider, 'm1'),
        rev: 0,
      });
      expect((await store.readMany([{ provider, model: 'm1' }])).size).toBe(0);
    });

    it('given an append of a counted signal and a transition, then it answers the new revision and the state, its rev and the log record are all written', async () => {
      const { store, log } = await create();
      const provider = unique('p');
      const transition = aTransition(provider);
      const state = {
        ...initialBreakerState(provider),
        status: 'open' as const,
        version: 1,
        openUntil: transition.openUntil,
      };
      const change = {
        state,
        at: transition.at,
        signals: [signal(unique('sig'))],
        transitions: [transition],
      };
      expect(await appendChange(store, change, 0)).toBe(1);
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

    it('given a counted signal, when an append counts it again, then it conflicts naming it (the breaker had not moved) and nothing changes', async () => {
      const { store } = await create();
      const provider = unique('p');
      const signalId = unique('sig');
      const first = handleHealthCommand(initialBreakerState(provider), {
        type: 'RecordAttempt',
        signalId,
        at: AT,
        outcome: 'failed_terminal',
        errorClass: 'timeout',
        dispatchId: null,
      });
      const change = {
        state: first.state,
        at: AT,
        signals: [signal(signalId)],
        transitions: transitionsOf(first.events),
      };
      expect(await appendChange(store, change, 0)).toBe(1);
      const error = await refusal(appendChange(store, change, 1));
      expect(error).toBeInstanceOf(VersionConflictError);
      expect(error).toMatchObject({
        stream: `health#${provider}`,
        version: 2,
        existing: { breaker: null, counted: [signalId] },
      });
      expect((await store.load({ provider, model: null })).rev).toBe(1);
    });

    it('given a stale revision, when appending, then it conflicts with the breaker as stored and the stored state stands', async () => {
      const { store } = await create();
      const provider = unique('p');
      const state = initialBreakerState(provider);
      expect(await appendChange(store, { state, at: AT, signals: [signal(unique('sig'))] }, 0)).toBe(1);
      const error = await refusal(
        appendChange(store, { state, at: AT, signals: [signal(unique('sig'))] }, 0),
      );
      expect(error).toBeInstanceOf(VersionConflictError);
      // The breaker moved: the refusal carries it, so a retry need not read it.
      expect((error as VersionConflictError).existing).toEqual({ breaker: { state, rev: 1 }, counted: [] });
      const leased = { ...state, probe: { dispatchId: 'job-a:v1', expiresAt: AT } };
      expect(await appendChange(store, { state: leased, at: AT }, 1)).toBe(2);
      expect(await store.load({ provider, model: null })).toEqual({ state: leased, rev: 2 });
    });

    it('given a transition version already in the log, when appending it again, then it conflicts and no signal is left counted', async () => {
      const { store } = await create();
      const provider = unique('p');
      const state = initialBreakerState(provider);
      await appendChange(
        store,
        { state, at: AT, signals: [signal(unique('sig'))], transitions: [aTransition(provider)] },
        0,
      );
      const retried = unique('sig');
      const error = await refusal(
        appendChange(
          store,
          { state, at: AT, signals: [signal(retried)], transitions: [aTransition(provider)] },
          1,
        ),
      );
      expect(error).toBeInstanceOf(VersionConflictError);
      expect((error as VersionConflictError).existing).toMatchObject({ counted: [] });
      // The refused append wrote nothing: the same signal can still be counted.
      expect(await appendChange(store, { state, at: AT, signals: [signal(retried)] }, 1)).toBe(2);
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
      await appendChange(store, { state, at: AT, signals: [signal(unique('sig'))] }, 0);
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

    it('given signals counted together, when a later append carries one of them again, then it names that one, writes nothing, and appends without it', async () => {
      const { store, log } = await create();
      const provider = unique('p');
      const [a, b, c] = [unique('sig'), unique('sig'), unique('sig')];
      const transition = aTransition(provider);
      const state = { ...initialBreakerState(provider), status: 'open' as const, version: 1 };
      const signals = (...ids: string[]) => ids.map((id) => signal(id));
      expect(
        await appendChange(store, { state, at: AT, signals: signals(a, b), transitions: [transition] }, 0),
      ).toBe(1);
      expect(await store.load({ provider, model: null })).toEqual({ state, rev: 1 });
      expect(await log.readStream(`health#${provider}`)).toHaveLength(1);
      // b was counted: the append of b and c is refused as a whole, naming b.
      const next = { ...state, consecutiveFailures: 2 };
      const error = await refusal(appendChange(store, { state: next, at: AT, signals: signals(c, b) }, 1));
      expect((error as VersionConflictError).existing).toEqual({ breaker: null, counted: [b] });
      expect((await store.load({ provider, model: null })).rev).toBe(1);
      expect(await appendChange(store, { state: next, at: AT, signals: signals(c) }, 1)).toBe(2);
      expect(await store.load({ provider, model: null })).toEqual({ state: next, rev: 2 });
      // A stale revision and a counted signal at once: the refusal names the signal (and the breaker,
      // when the store returns it: deciding again on the old one only meets the moved revision next).
      const both = await refusal(
        appendChange(store, { state, at: AT, signals: signals(unique('sig'), a) }, 1),
      );
      expect(both).toBeInstanceOf(VersionConflictError);
      const found = (both as VersionConflictError).existing as BreakerConflict;
      expect(found.counted).toEqual([a]);
      expect(found.breaker ?? { state: next, rev: 2 }).toEqual({ state: next, rev: 2 });
    });

    it('given an append that is not one breaker change, when appended, then it is refused as invalid and nothing is written', async () => {
      const { store } = await create();
      const provider = unique('p');
      const stream = streamForHealth(provider);
      const state = initialBreakerState(provider);
      const records = breakerRecordsOf({ state, at: AT, signals: [signal(unique('sig'))] });
      const [counted, snapshot] = records as [BreakerRecord, BreakerRecord];
      const invalid: [string, readonly BreakerRecord[], number][] = [
        ['no state', [counted], 0],
        ['two states', [snapshot, snapshot], 0],
        ['another breaker', breakerRecordsOf({ state: initialBreakerState(unique('p')), at: AT }), 0],
        ['a signal twice', [counted, counted, snapshot], 0],
        ['no whole version', records, -1],
        ['over a transaction', [...Array.from({ length: 100 }, () => counted), snapshot], 0],
      ];
      for (const [why, appended, expectedVersion] of invalid) {
        const error = await refusal(store.appendToStream(stream, appended, { expectedVersion }));
        expect(error, why).toBeInstanceOf(InvalidAppendError);
      }
      expect(await store.load({ provider, model: null })).toEqual({ state, rev: 0 });
    });

    it('given signals appended alone with no expected version, when appended again with any counted, then the whole append is refused naming exactly those, nothing of it written, and no breaker was written', async () => {
      const { store, log } = await create();
      const provider = unique('p');
      const stream = streamForHealth(provider);
      const [a, b, c, d] = [unique('sig'), unique('sig'), unique('sig'), unique('sig')];
      const at = '2026-11-25T14:00:00.000Z';
      const marks = (...ids: string[]) =>
        countedRecordsOf(
          provider,
          ids.map((signalId) => ({ signalId, at })),
        );
      expect(await store.appendToStream(stream, marks(a, b), { expectedVersion: ANY_VERSION })).toBeNull();
      // b and a exist: all or nothing — c and d are not written, and the refusal names a and b only.
      const error = await refusal(
        store.appendToStream(stream, marks(c, b, d, a), { expectedVersion: ANY_VERSION }),
      );
      expect(error).toBeInstanceOf(VersionConflictError);
      const found = (error as VersionConflictError).existing as BreakerConflict;
      expect(found.breaker).toBeNull();
      expect([...found.counted].sort()).toEqual([a, b].sort());
      // Without those, the rest is appended: c and d had not been written by the refused append.
      expect(await store.appendToStream(stream, marks(c, d), { expectedVersion: ANY_VERSION })).toBeNull();
      // An append at a revision that carries a marked signal is refused naming it, like any counted before.
      const state = { ...initialBreakerState(provider), consecutiveFailures: 1 };
      const counted = await refusal(appendChange(store, { state, at, signals: [{ signalId: c, at }] }, 0));
      expect(counted).toBeInstanceOf(VersionConflictError);
      expect((counted as VersionConflictError).existing).toMatchObject({ counted: [c] });
      expect(await store.load({ provider, model: null })).toEqual({
        state: initialBreakerState(provider),
        rev: 0,
      });
      expect(await log.readStream(stream)).toHaveLength(0);
    });

    it('given an append with no expected version that is not counted signals alone, when appended, then it is refused as invalid and nothing is written', async () => {
      const { store } = await create();
      const provider = unique('p');
      const stream = streamForHealth(provider);
      const sig = unique('sig');
      const state = { ...initialBreakerState(provider), consecutiveFailures: 1 };
      const change = breakerRecordsOf({
        state,
        at: AT,
        signals: [signal(sig)],
        transitions: [aTransition(provider)],
      });
      const [counted, transition, snapshot] = change as [BreakerRecord, BreakerRecord, BreakerRecord];
      const invalid: [string, readonly BreakerRecord[]][] = [
        ['nothing', []],
        ['a state', [counted, snapshot]],
        ['a state alone', [snapshot]],
        ['a transition', [counted, transition]],
        ['a whole change', change],
        ['another stream', countedRecordsOf(unique('p'), [signal(unique('sig'))])],
        ['a signal twice', [counted, counted]],
        [
          'over a transaction',
          countedRecordsOf(
            provider,
            Array.from({ length: 101 }, () => signal(unique('sig'))),
          ),
        ],
      ];
      for (const [why, appended] of invalid) {
        const error = await refusal(store.appendToStream(stream, appended, { expectedVersion: ANY_VERSION }));
        expect(error, why).toBeInstanceOf(InvalidAppendError);
      }
      // Nothing was written: the signal appended at the breaker's revision is counted now, once.
      expect(await appendChange(store, { state, at: AT, signals: [signal(sig)] }, 0)).toBe(1);
      expect(await store.load({ provider, model: null })).toEqual({ state, rev: 1 });
    });
  });
}
