import { describe, expect, it } from 'vitest';
import { decideWithHealth } from '../../src/commands/decide-with-health.ts';
import { leaseProbe } from '../../src/commands/probe-lease.ts';
import { VersionConflictError } from '../../src/errors.ts';
import type { BreakerState } from '../../src/log/health-records.ts';
import { decisionRecord } from '../../src/log/routing-records.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { ProviderHealthStore } from '../../src/ports/provider-health-store.ts';
import { initialBreakerState } from '../../src/provider-health/breaker.ts';
import { CachedHealthReader } from '../../src/provider-health/health-cache.ts';
import { breakerRefsOf, healthContextOf, healthRecordedIn } from '../../src/provider-health/health-view.ts';
import { reevaluate } from '../../src/queries/what-if.ts';
import {
  type CandidateHealth,
  decide,
  type Explanation,
  type HealthContext,
} from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';
import { aJob } from '../support/jobs.ts';
import { appendChange } from '../support/provider-health-contract.ts';

const NOW = '2026-11-25T14:02:00.000Z';
const REFS = breakerRefsOf(defaultRoutingTable.providers);
const falOpen: CandidateHealth = { health: 'unhealthy', breaker: 'fal#wan-i2v', version: 3 };
const replicateOpen: CandidateHealth = { health: 'unhealthy', breaker: 'replicate', version: 1 };
const health = (
  candidates: Record<string, CandidateHealth>,
  read: 'ok' | 'unavailable' = 'ok',
): HealthContext => ({
  read,
  candidates,
});
const autoJob = () => aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' });

describe('decide with provider health (default table)', () => {
  it('given every breaker closed, when an auto job is decided, then it goes to fal exactly as without health', () => {
    const withHealth = decide(autoJob(), { table: defaultRoutingTable, health: health({}) });
    expect(withHealth).toMatchObject({ outcome: 'routed', provider: 'fal', model: 'wan-i2v' });
    expect(withHealth.explanation.health).toEqual({ read: 'ok' });
  });

  it('given fal is open, when an auto job is decided, then it fails over to Replicate and explains why not fal', () => {
    const decision = decide(autoJob(), {
      table: defaultRoutingTable,
      health: health({ 'fal#wan-i2v': falOpen }),
    });
    expect(decision).toMatchObject({
      outcome: 'routed',
      provider: 'replicate',
      model: 'wan-2.1-i2v',
      queue: 'ReplicateJobQueue',
    });
    expect(decision.explanation.candidates).toContainEqual(
      expect.objectContaining({
        provider: 'fal',
        verdict: 'excluded',
        reason: 'provider_unhealthy',
        breaker: 'fal#wan-i2v',
        healthVersion: 3,
      }),
    );
    expect(decision.explanation.candidates.at(-1)).toMatchObject({
      provider: 'replicate',
      verdict: 'selected',
    });
  });

  it('given fal is open, when an explicit fal job is decided, then it still goes to fal and records healthIgnored', () => {
    const decision = decide(aJob({ provider: 'fal' }), {
      table: defaultRoutingTable,
      health: health({ 'fal#wan-i2v': falOpen }),
    });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'fal' });
    expect(decision.explanation.health).toEqual({ read: 'ok', healthIgnored: true });
    expect(decision.explanation.candidates.at(-1)).toMatchObject({
      provider: 'fal',
      verdict: 'selected',
      healthIgnored: true,
      healthVersion: 3,
    });
  });

  it('given fal and Replicate are both open, when an auto job is decided, then it goes to fal anyway (panic mode, recorded)', () => {
    const decision = decide(autoJob(), {
      table: defaultRoutingTable,
      health: health({ 'fal#wan-i2v': falOpen, 'replicate#wan-2.1-i2v': replicateOpen }),
    });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'fal' });
    expect(decision.explanation.health).toEqual({ read: 'ok', panic: true });
  });

  it('given a rule that says reject when all are unhealthy, when both are open, then the job is rejected no_healthy_provider', () => {
    const raw = structuredClone(defaultRoutingTable) as unknown as { rules: Record<string, unknown>[] };
    (raw.rules[2] as Record<string, unknown>).whenAllUnhealthy = 'reject';
    const decision = decide(autoJob(), {
      table: loadRoutingTable(raw),
      health: health({ 'fal#wan-i2v': falOpen, 'replicate#wan-2.1-i2v': replicateOpen }),
    });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'no_healthy_provider' });
  });

  it('given health could not be read, when an auto job is decided, then every provider counts as healthy and the read is recorded', () => {
    const decision = decide(autoJob(), {
      table: defaultRoutingTable,
      health: health({ 'fal#wan-i2v': falOpen }, 'unavailable'),
    });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'fal' });
    expect(decision.explanation.health).toEqual({ read: 'unavailable' });
  });

  it('given the job already tried fal, when re-decided, then fal is excluded as already_tried', () => {
    const decision = decide(autoJob(), {
      table: defaultRoutingTable,
      health: health({}),
      alreadyTried: ['fal#wan-i2v'],
    });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'replicate' });
    expect(decision.explanation.candidates).toContainEqual(
      expect.objectContaining({ provider: 'fal', reason: 'already_tried' }),
    );
  });

  it('given fal is half-open, when an auto job is decided, then it is fal’s probe', () => {
    const decision = decide(autoJob(), {
      table: defaultRoutingTable,
      health: health({ 'fal#wan-i2v': { health: 'probe', breaker: 'fal#wan-i2v', version: 4 } }),
    });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'fal', probeOf: 'fal#wan-i2v' });
  });
});

const breaker = (provider: string, model: string | null, overrides: Partial<BreakerState>): BreakerState => ({
  ...initialBreakerState(provider, model),
  ...overrides,
});

describe('the health each candidate gets', () => {
  it('given a provider-level forced_open and a closed model breaker, then the candidate is unhealthy from the provider breaker', () => {
    const breakers = new Map([
      ['fal', breaker('fal', null, { mode: 'forced_open', status: 'open', version: 2 })],
      ['fal#wan-i2v', breaker('fal', 'wan-i2v', { version: 1 })],
    ]);
    expect(healthContextOf({ read: 'ok', breakers }, defaultRoutingTable.providers, NOW).candidates).toEqual({
      'fal#wan-i2v': { health: 'unhealthy', breaker: 'fal', version: 2 },
    });
  });

  it('given an open breaker whose period has passed, then the candidate may be probed', () => {
    const breakers = new Map([
      [
        'fal#wan-i2v',
        breaker('fal', 'wan-i2v', { status: 'open', openUntil: '2026-11-25T14:01:00.000Z', version: 1 }),
      ],
    ]);
    expect(
      healthContextOf({ read: 'ok', breakers }, defaultRoutingTable.providers, NOW).candidates['fal#wan-i2v']
        ?.health,
    ).toBe('probe');
  });

  it('given health is unavailable, then no candidate is marked', () => {
    expect(healthContextOf({ read: 'unavailable' }, defaultRoutingTable.providers, NOW)).toEqual({
      read: 'unavailable',
      candidates: {},
    });
  });
});

function failingStore(): ProviderHealthStore {
  const fail = async () => {
    throw new Error('ProvisionedThroughputExceededException');
  };
  return {
    load: fail,
    readMany: fail,
    readForSignals: fail,
    appendToStream: fail,
    raiseSuccessRegisters: fail,
    readSuccessRegister: fail,
  };
}

describe('the router’s cached health read', () => {
  it('given several jobs within 5 seconds, then the store is read once; after 5 s it is read again', async () => {
    const reader = new CachedHealthReader(new InMemoryProviderHealthStore(new InMemoryRoutingLog()));
    const t = Date.parse(NOW);
    for (const ms of [0, 1000, 4999]) await reader.snapshot(REFS, new Date(t + ms));
    expect(reader.reads).toBe(1);
    await reader.snapshot(REFS, new Date(t + 5000));
    expect(reader.reads).toBe(2);
  });

  it('given jobs in flight when the cache expires, then they share one read', async () => {
    const reader = new CachedHealthReader(new InMemoryProviderHealthStore(new InMemoryRoutingLog()));
    await Promise.all([1, 2, 3].map(() => reader.snapshot(REFS, new Date(NOW))));
    expect(reader.reads).toBe(1);
  });

  it('given the store fails, then the snapshot is unavailable (fail open) and not retried within the cache period', async () => {
    const reader = new CachedHealthReader(failingStore());
    expect(await reader.snapshot(REFS, new Date(NOW))).toEqual({ read: 'unavailable' });
    await reader.snapshot(REFS, new Date(Date.parse(NOW) + 100));
    expect(reader.reads).toBe(1);
  });
});

/** An auto job decided with the default table, health consulted through decideWithHealth. */
async function decideAuto(health: Parameters<typeof decideWithHealth>[2], now: Date, dispatchId: string) {
  const made = await decideWithHealth(
    defaultRoutingTable.providers,
    (read) => ({
      decision: decide(autoJob(), { table: defaultRoutingTable, ...(read ? { health: read } : {}) }),
    }),
    health,
    now,
    dispatchId,
  );
  return made.decision;
}

describe('probes are leased before they are recorded', () => {
  async function halfOpenFal() {
    const store = new InMemoryProviderHealthStore(new InMemoryRoutingLog());
    const state = breaker('fal', 'wan-i2v', {
      status: 'open',
      openUntil: '2026-11-25T14:01:00.000Z',
      version: 1,
    });
    await appendChange(store, { state, at: NOW, signals: [{ signalId: 's', at: NOW }] }, 0);
    return { store, reader: new CachedHealthReader(store, { ttlMs: 0 }) };
  }

  it('given fal is half-open, when two auto jobs are decided, then the first is the probe and the second goes to Replicate', async () => {
    const health = await halfOpenFal();
    const first = await decideAuto(health, new Date(NOW), 'job-a:v1');
    const second = await decideAuto(health, new Date(NOW), 'job-b:v1');
    expect(first).toMatchObject({ provider: 'fal', probeOf: 'fal#wan-i2v' });
    expect(second).toMatchObject({ provider: 'replicate' });
    expect((await health.store.load({ provider: 'fal', model: 'wan-i2v' })).state.probe?.dispatchId).toBe(
      'job-a:v1',
    );
  });

  it('given a router whose cached view predates the lease, when the holder asks again, then it keeps its lease and others do not get it', async () => {
    const { store } = await halfOpenFal();
    const fal = { provider: 'fal', model: 'wan-i2v' };
    expect(await leaseProbe(store, fal, 'job-a:v1', NOW)).toBe(true);
    expect(await leaseProbe(store, fal, 'job-a:v1', NOW)).toBe(true);
    expect(await leaseProbe(store, fal, 'job-b:v1', NOW)).toBe(false);
  });

  it('given another router takes the breaker on every append, when leasing, then after 3 reads the probe is not leased', async () => {
    const { store } = await halfOpenFal();
    let loads = 0;
    const racing: ProviderHealthStore = {
      load: (ref) => {
        loads++;
        return store.load(ref);
      },
      readMany: (refs) => store.readMany(refs),
      readForSignals: (refs, keys) => store.readForSignals(refs, keys),
      appendToStream: async () => {
        throw new VersionConflictError('health#fal#wan-i2v', 1);
      },
      raiseSuccessRegisters: (entries) => store.raiseSuccessRegisters(entries),
      readSuccessRegister: (key) => store.readSuccessRegister(key),
    };
    expect(await leaseProbe(racing, { provider: 'fal', model: 'wan-i2v' }, 'job-a:v1', NOW)).toBe(false);
    expect(loads).toBe(3);
  });

  it('given the health store is down when leasing, then the probe is skipped, never sent unleased', async () => {
    const { reader } = await halfOpenFal();
    const decision = await decideAuto({ reader, store: failingStore() }, new Date(NOW), 'job-a:v1');
    expect(decision).toMatchObject({ provider: 'replicate' });
  });

  it('given no health is configured, then the decision is the plain one', async () => {
    expect(await decideAuto(undefined, new Date(NOW), 'j:v1')).toEqual(
      decide(autoJob(), { table: defaultRoutingTable }),
    );
  });
});

describe('what-if re-decides under the health a decision recorded', () => {
  const recordOf = (job: ReturnType<typeof autoJob>, health: HealthContext) =>
    decisionRecord(
      { eventId: 'e', submittedAt: null, recordedAt: NOW, detail: job, payloadHash: 'k1:test' },
      job,
      decide(job, { table: defaultRoutingTable, health }),
    );

  it('given a decision that failed over while fal was open, when re-evaluated with the same table, then nothing changes', () => {
    const record = recordOf(autoJob(), health({ 'fal#wan-i2v': falOpen }));
    expect(reevaluate(record, defaultRoutingTable, () => undefined)).toMatchObject({
      before: { provider: 'replicate' },
      after: { provider: 'replicate' },
      changes: [],
    });
  });

  it.each([
    ['a panic decision', health({ 'fal#wan-i2v': falOpen, 'replicate#wan-2.1-i2v': replicateOpen }), 'fal'],
    ['an unreadable health', health({}, 'unavailable'), 'fal'],
    [
      'a healthy read',
      health({ 'fal#wan-i2v': { health: 'healthy', breaker: 'fal#wan-i2v', version: 2 } }),
      'fal',
    ],
  ])('given %s, then the rebuilt health reproduces the decision', (_case, read, provider) => {
    const record = recordOf(autoJob(), read);
    expect(healthRecordedIn(record.data.explanation as Explanation)).toMatchObject({ read: read.read });
    expect(reevaluate(record, defaultRoutingTable, () => undefined)).toMatchObject({
      after: { provider },
      changes: [],
    });
  });

  it('given an explicit request that ignored health, then the rebuilt health marks it unhealthy and it stays', () => {
    const job = aJob({ provider: 'fal' });
    const record = recordOf(job, health({ 'fal#wan-i2v': falOpen }));
    expect(healthRecordedIn(record.data.explanation as Explanation)?.candidates['fal#wan-i2v']?.health).toBe(
      'unhealthy',
    );
    expect(reevaluate(record, defaultRoutingTable, () => undefined).changes).toEqual([]);
  });

  it('given a decision made without health, then none is rebuilt', () => {
    const job = autoJob();
    const record = decisionRecord(
      { eventId: 'e', submittedAt: null, recordedAt: NOW, detail: job, payloadHash: 'k1:test' },
      job,
      decide(job, { table: defaultRoutingTable }),
    );
    expect(healthRecordedIn(record.data.explanation as Explanation)).toBeUndefined();
  });
});
