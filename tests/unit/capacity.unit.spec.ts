import { describe, expect, it } from 'vitest';
import { releaseCompletedSlot } from '../../src/commands/release-slot.ts';
import { type RouteJobDependencies, routeJob } from '../../src/commands/route-job.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import { readProviderSlots, releaseSlot, takeSlot } from '../../src/provider-health/slot-claims.ts';
import {
  SLOTS_PER_SHARD,
  shardCapacity,
  shardChoices,
  shardCount,
} from '../../src/provider-health/slot-shards.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { type RoutingTable, routingTableProblems } from '../../src/routing/routing-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { aJob } from '../support/jobs.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');

describe('slot shards', () => {
  it('given any concurrency, when split over shards, then the shard capacities add up to it exactly and none is empty', () => {
    for (const concurrency of [1, 2, 15, 16, 17, 33, 100, 999, 1000, 60_000]) {
      const shards = shardCount(concurrency);
      const capacities = Array.from({ length: shards }, (_, shard) => shardCapacity(concurrency, shard));
      expect(capacities.reduce((a, b) => a + b, 0)).toBe(concurrency);
      expect(Math.min(...capacities)).toBeGreaterThan(0);
      expect(Math.max(...capacities)).toBeLessThanOrEqual(SLOTS_PER_SHARD);
    }
  });

  it('given a dispatch, when its shards are chosen, then there are two distinct ones in range (one when the ledger has one shard)', () => {
    expect(shardChoices('job-1:v1', 2)).toEqual([0]);
    for (const dispatchId of ['a:v1', 'b:v1', 'job-42:v3', 'x'.repeat(200)]) {
      const [first, second] = shardChoices(dispatchId, 1000);
      expect(first).not.toBe(second);
      for (const shard of [first, second]) expect(shard).toBeGreaterThanOrEqual(0);
      for (const shard of [first, second]) expect(shard).toBeLessThan(shardCount(1000));
      expect(shardChoices(dispatchId, 1000)).toEqual([first, second]);
    }
  });
});

describe('routing table concurrency', () => {
  it('given concurrency and jobTimeoutSec, when loaded, then whole positive numbers are accepted and anything else named', () => {
    expect(
      aTableWithConcurrency({ fal: { concurrency: 2, jobTimeoutSec: 600 } }).providers.fal?.concurrency,
    ).toBe(2);
    const withLimit = (concurrency: unknown) => {
      const table = structuredClone(defaultRoutingTable) as unknown as { providers: Record<string, object> };
      table.providers.fal = { ...table.providers.fal, concurrency };
      return routingTableProblems(table);
    };
    expect(withLimit(0).join()).toMatch(/providers\.fal\.concurrency/);
    expect(withLimit(1.5).join()).toMatch(/providers\.fal\.concurrency/);
    expect(withLimit(Number.POSITIVE_INFINITY).join()).toMatch(/providers\.fal\.concurrency/);
    expect(withLimit('2').join()).toMatch(/providers\.fal\.concurrency/);
  });

  it('given the seed table, when read, then no provider declares a concurrency (unlimited: the seed behaviour)', () => {
    expect(Object.values(defaultRoutingTable.providers).map((p) => p.concurrency)).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe('decide with full providers', () => {
  const table = aTableWithConcurrency({ fal: 2 });
  const autoJob = () => aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' });

  it('given fal full, when an auto job is decided, then it goes to the fallback and records why not fal', () => {
    const decision = decide(autoJob(), { table, capacity: { full: ['fal'] } });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'replicate', queue: 'ReplicateJobQueue' });
    expect(decision.explanation.candidates).toContainEqual(
      expect.objectContaining({ provider: 'fal', verdict: 'excluded', reason: 'provider_full' }),
    );
    expect(decision.explanation.capacity).toEqual({ full: ['fal'] });
  });

  it('given every candidate full, when an auto job is decided, then it is rejected capacity_exhausted (never over-dispatched)', () => {
    const decision = decide(autoJob(), {
      table: aTableWithConcurrency({ fal: 2, replicate: 1 }),
      capacity: { full: ['fal', 'replicate'] },
    });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'capacity_exhausted' });
  });

  it('given every candidate full and the rule says route_anyway, when decided, then it goes to the first one, recorded as an overflow', () => {
    const decision = decide(autoJob(), {
      table: aTableWithConcurrency(
        { fal: 2, replicate: 1 },
        { 'auto-short-720p-fal': { whenAllFull: 'route_anyway' } },
      ),
      capacity: { full: ['fal', 'replicate'] },
    });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'fal', overflow: true });
    expect(decision.explanation.capacity).toEqual({ full: ['fal', 'replicate'], overflow: true });
    expect(decision.explanation.candidates.at(-1)).toMatchObject({ provider: 'fal', overflow: true });
  });

  it('given fal full, when an explicit fal job is decided, then it is never switched to Replicate', () => {
    const decision = decide(aJob({ provider: 'fal' }), { table, capacity: { full: ['fal'] } });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'capacity_exhausted' });
    expect(decision.explanation.candidates.map((c) => c.provider)).not.toContain('replicate');
  });
});

function aRouter(table: RoutingTable, clock: { now: number } = { now: T0 }) {
  const log = new InMemoryRoutingLog();
  const ledger = new InMemorySlotLedger();
  const deps: RouteJobDependencies = {
    log,
    credits: new InMemoryCreditBalances(),
    table,
    ...inMemoryContentPorts(new InMemoryContentVault()),
    now: () => new Date(clock.now),
    newId: () => 'generated-id',
    capacity: { ledger },
  };
  const submit = async (overrides: Record<string, unknown> = {}) => {
    const result = await routeJob(
      { type: 'RouteJob', data: { event: aSubmittedEvent(aSubmissionDetail(overrides)) } },
      deps,
    );
    return result.record;
  };
  const complete = (jobId: string, outcome: 'succeeded' | 'failed_terminal' | 'unknown' = 'succeeded') =>
    releaseCompletedSlot(
      { provider: 'fal', dispatchId: `${jobId}:v1`, outcome },
      { ledger, rules: fixedRules(table) },
    );
  const inFlight = async (provider = 'fal') =>
    (
      await readProviderSlots(
        ledger,
        [{ provider, concurrency: table.providers[provider]?.concurrency ?? 0 }],
        clock.now,
      )
    )[0];
  return { log, ledger, deps, submit, complete, inFlight, clock };
}

describe('routing with a shared slot ledger (fal concurrency 2)', () => {
  it('given fal concurrency 2, when three auto jobs arrive, then the third goes to the fallback; after a fal completion the next goes to fal again', async () => {
    const router = aRouter(aTableWithConcurrency({ fal: 2 }));
    const first = await router.submit();
    const second = await router.submit();
    const third = await router.submit();
    expect(
      [first, second, third].map((r) => (r.type === 'RoutingDecided' ? r.data.provider : r.type)),
    ).toEqual(['fal', 'fal', 'replicate']);
    expect(third.data.explanation?.candidates).toContainEqual(
      expect.objectContaining({ provider: 'fal', reason: 'provider_full' }),
    );
    expect(await router.inFlight()).toMatchObject({ inFlight: 2, free: 0 });

    expect(await router.complete(first.metadata.jobId as string)).toBe('released');
    const fourth = await router.submit();
    expect(fourth).toMatchObject({ type: 'RoutingDecided', data: { provider: 'fal' } });
  });

  it('given fal full, when an explicit fal job arrives, then it is rejected capacity_exhausted and never sent to Replicate', async () => {
    const router = aRouter(aTableWithConcurrency({ fal: 1 }));
    await router.submit({ provider: 'fal' });
    const refused = await router.submit({ provider: 'fal' });
    expect(refused).toMatchObject({ type: 'RoutingRejected', data: { reason: 'capacity_exhausted' } });
  });

  it('given a routed job, when its submission is delivered again, then it keeps its one slot', async () => {
    const router = aRouter(aTableWithConcurrency({ fal: 2 }));
    const event = aSubmittedEvent(aSubmissionDetail());
    const route = () => routeJob({ type: 'RouteJob', data: { event } }, router.deps);
    expect((await route()).outcome).toBe('recorded');
    expect((await route()).outcome).toBe('duplicate');
    expect(await router.inFlight()).toMatchObject({ inFlight: 1 });
  });

  it('given a job rejected for a message too large, when decided, then the slot it took is given back', async () => {
    const router = aRouter(aTableWithConcurrency({ fal: 1 }));
    const result = await routeJob(
      { type: 'RouteJob', data: { event: aSubmittedEvent(aSubmissionDetail({ extra: 'x'.repeat(4000) })) } },
      { ...router.deps, maxMessageBytes: 1024 },
    );
    expect(result.record).toMatchObject({ type: 'RoutingRejected', data: { reason: 'message_too_large' } });
    expect(await router.inFlight()).toMatchObject({ inFlight: 0 });
  });

  it('given a lost completion, when the job timeout has passed, then its slot is free again', async () => {
    const router = aRouter(aTableWithConcurrency({ fal: { concurrency: 1, jobTimeoutSec: 60 } }));
    await router.submit();
    expect(await router.submit()).toMatchObject({ data: { provider: 'replicate' } });
    router.clock.now += 60_000;
    expect(await router.inFlight()).toMatchObject({ inFlight: 0, expired: 1 });
    expect(await router.submit()).toMatchObject({ data: { provider: 'fal' } });
  });

  it('given the seed table (no concurrency), when jobs are routed, then no slot is taken', async () => {
    const router = aRouter(defaultRoutingTable);
    for (let i = 0; i < 5; i++) expect(await router.submit()).toMatchObject({ data: { provider: 'fal' } });
    expect((await router.ledger.read([{ provider: 'fal', shard: 0 }])).size).toBe(0);
  });
});

describe('releasing a slot on completion', () => {
  const table = aTableWithConcurrency({ fal: 2 });
  const deps = () => ({ ledger: new InMemorySlotLedger(), rules: fixedRules(table) });

  it('given a retryable or unknown outcome, when reported, then the slot is kept (the job may still run)', async () => {
    const d = deps();
    await takeSlot(d.ledger, {
      provider: 'fal',
      concurrency: 2,
      dispatchId: 'j:v1',
      atMs: T0,
      timeoutMs: 1000,
    });
    for (const outcome of ['failed_retryable', 'unknown'] as const) {
      expect(await releaseCompletedSlot({ provider: 'fal', dispatchId: 'j:v1', outcome }, d)).toBe(
        'not_terminal',
      );
    }
    expect(
      await releaseCompletedSlot({ provider: 'fal', dispatchId: 'j:v1', outcome: 'failed_terminal' }, d),
    ).toBe('released');
    expect(await releaseCompletedSlot({ provider: 'fal', dispatchId: 'j:v1', outcome: 'succeeded' }, d)).toBe(
      'not_held',
    );
  });

  it('given a provider without a concurrency, when a completion arrives, then there is nothing to release', async () => {
    expect(
      await releaseCompletedSlot({ provider: 'replicate', dispatchId: 'j:v1', outcome: 'succeeded' }, deps()),
    ).toBe('unlimited');
  });

  it('given a large ledger, when slots are taken and released through their two shards, then the counts stay exact', async () => {
    const ledger = new InMemorySlotLedger();
    const claim = (i: number) => ({
      provider: 'big',
      concurrency: 40,
      dispatchId: `j${i}:v1`,
      atMs: T0,
      timeoutMs: 1000,
    });
    const outcomes = [];
    for (let i = 0; i < 60; i++) outcomes.push((await takeSlot(ledger, claim(i))).outcome);
    const taken = outcomes.filter((o) => o === 'taken').length;
    expect(taken).toBeLessThanOrEqual(40);
    const [read] = await readProviderSlots(ledger, [{ provider: 'big', concurrency: 40 }], T0);
    expect(read).toMatchObject({ inFlight: taken, shards: 3 });
    for (let i = 0; i < 60; i++)
      if (outcomes[i] === 'taken') expect(await releaseSlot(ledger, claim(i))).toBe(true);
    const [after] = await readProviderSlots(ledger, [{ provider: 'big', concurrency: 40 }], T0);
    expect(after).toMatchObject({ inFlight: 0, free: 40 });
  });

  it('given a forced take on a full provider, when taken, then it is held all the same', async () => {
    const ledger = new InMemorySlotLedger();
    const claim = (id: string, force = false) => ({
      provider: 'fal',
      concurrency: 1,
      dispatchId: id,
      atMs: T0,
      timeoutMs: 1000,
      ...(force ? { force } : {}),
    });
    expect(await takeSlot(ledger, claim('a:v1'))).toEqual({ outcome: 'taken', shard: 0 });
    expect(await takeSlot(ledger, claim('b:v1'))).toEqual({ outcome: 'full' });
    expect(await takeSlot(ledger, claim('b:v1', true))).toEqual({ outcome: 'taken', shard: 0 });
    expect(await takeSlot(ledger, claim('b:v1', true))).toEqual({ outcome: 'already_held', shard: 0 });
  });
});
