/**
 * A re-routing decided like a first decision (issue 21): when a dispatch fails at the provider and
 * every candidate left is full, the job is held — a RoutingDeferred naming the failure, in the
 * waiting lines, woken by the Holds function, bounded by maxHoldSec/atMaxHold — and a re-routing
 * applies `prefer` with its quotes recorded. Through the real commands (RouteJob,
 * HandleProviderSignal, the Holds messages) over the in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import { renderHistory } from '../../src/cli/verbs/history.ts';
import { handleProviderSignal } from '../../src/commands/handle-provider-signal.ts';
import type { HeldJobDependencies } from '../../src/commands/hold-job.ts';
import { releaseCompletedSlot } from '../../src/commands/release-slot.ts';
import { type RouteJobDependencies, routeJob } from '../../src/commands/route-job.ts';
import { handleHoldMessage } from '../../src/handlers/holds.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../../src/log/stored-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryHoldBacklog } from '../../src/memory/in-memory-hold-backlog.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import { planEffects, REROUTED_DETAIL_TYPE } from '../../src/projections/effects.ts';
import { parseHealthSignal } from '../../src/provider-health/signals.ts';
import type { EtaContext, PairEta } from '../../src/routing/eta.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { anAttemptEvent } from '../support/health-signals.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const T0 = Date.parse('2026-11-25T14:00:00.000Z');

function aStack(table: RoutingTable, eta?: EtaContext) {
  const clock = { now: T0 };
  const log = new InMemoryRoutingLog();
  const ledger = new InMemorySlotLedger();
  const backlog = new InMemoryHoldBacklog();
  const rules = fixedRules(table);
  const now = () => new Date(clock.now);
  const etaPort = eta ? { reader: { context: async () => eta } } : undefined;
  const capacity = { ledger, backlog, recheckSec: 30 };
  const router: RouteJobDependencies = {
    log,
    credits: new InMemoryCreditBalances(),
    table,
    ...inMemoryContentPorts(new InMemoryContentVault()),
    now,
    newId: () => 'generated-id',
    capacity,
    ...(etaPort ? { eta: etaPort } : {}),
  };
  const holds: HeldJobDependencies = {
    log,
    rules,
    ledger,
    backlog,
    now,
    recheckSec: 30,
    ...(etaPort ? { eta: etaPort } : {}),
  };
  const signals = {
    store: new InMemoryProviderHealthStore(log),
    slots: { ledger, rules, backlog },
    revise: { log, rules, capacity, ...(etaPort ? { eta: etaPort } : {}) },
  };
  const submit = async (overrides: Record<string, unknown> = {}) => {
    clock.now += 1000;
    const detail = aSubmissionDetail(overrides);
    return (await routeJob({ type: 'RouteJob', data: { event: aSubmittedEvent(detail) } }, router)).record;
  };
  /** The provider reports the job's current dispatch failed (a provider-side class: re-routed). */
  const fail = async (jobId: string, signal = `sig-${jobId}`) => {
    clock.now += 1000;
    const current = jobStateOf(await log.readStream(`job#${jobId}`)).dispatches.at(-1);
    if (!current) throw new Error(`${jobId} was never dispatched`);
    const event = anAttemptEvent(
      {
        jobId,
        provider: current.decision.provider,
        model: current.decision.model,
        dispatchId: `${jobId}:v${current.version}`,
        errorClass: 'server_error',
        ts: new Date(clock.now).toISOString(),
      },
      { id: signal },
    );
    const parsed = parseHealthSignal({ ...event, time: new Date(clock.now).toISOString() });
    if (!parsed.ok) throw new Error(parsed.problem);
    return handleProviderSignal(parsed.signal, signals);
  };
  const complete = async (jobId: string) => {
    const current = jobStateOf(await log.readStream(`job#${jobId}`)).dispatches.at(-1);
    if (!current) throw new Error(`${jobId} was never dispatched`);
    return releaseCompletedSlot(
      {
        provider: current.decision.provider,
        dispatchId: `${jobId}:v${current.version}`,
        outcome: 'succeeded',
      },
      { ledger, rules, backlog },
    );
  };
  const handleBacklog = async () => {
    const decided = [];
    for (const message of backlog.take()) decided.push(...(await handleHoldMessage(message, holds)).decided);
    return decided;
  };
  const streamOf = (jobId: string) => log.readStream(`job#${jobId}`);
  const stateOf = async (jobId: string) => jobStateOf(await streamOf(jobId));
  return { clock, log, ledger, backlog, submit, fail, complete, handleBacklog, streamOf, stateOf };
}

const autoJob = { provider: 'auto', lengthSec: 8, resolution: '720p' };

describe('a re-routing that finds every candidate left full', () => {
  it('given an auto job on fal and Replicate full, when fal fails it, then it is held for Replicate only (never back to fal) and re-routed there once a Replicate slot frees', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    const onReplicate = await stack.submit({ provider: 'replicate' });
    expect(job).toMatchObject({ type: 'RoutingDecided', provider: 'fal' });

    const failed = await stack.fail(job.jobId as string);
    expect(failed.slotReleased).toBe('fal');
    expect(failed.revision).toMatchObject({
      outcome: 'held',
      duplicate: false,
      record: {
        type: 'RoutingDeferred',
        version: 2,
        waitingFor: ['replicate'],
        atMaxHold: 'reject',
        reroute: { revision: 1, revises: 1, failedDispatchId: `${job.jobId}:v1`, failedProvider: 'fal' },
      },
    });
    expect(await stack.stateOf(job.jobId as string)).toMatchObject({ held: true, version: 2 });
    expect(stack.backlog.sent.map((s) => s.message)).toEqual([
      { kind: 'slot_freed', provider: 'fal' },
      { kind: 'recheck', jobId: job.jobId },
    ]);

    // fal's slot is free, but the job already failed there: the drain of fal's line and the job's
    // own recheck leave it held for Replicate, and a new auto job takes fal.
    expect(await stack.handleBacklog()).toEqual([]);
    expect(await stack.stateOf(job.jobId as string)).toMatchObject({ held: true });
    expect(await stack.submit(autoJob)).toMatchObject({ type: 'RoutingDecided', provider: 'fal' });

    stack.clock.now += 5000;
    await stack.complete(onReplicate.jobId as string);
    const [revised] = await stack.handleBacklog();
    expect(revised).toMatchObject({
      type: 'RoutingRevised',
      version: 3,
      revision: 1,
      revises: 1,
      failedProvider: 'fal',
      decision: { type: 'RoutingDecided', provider: 'replicate', queue: 'ReplicateJobQueue' },
      afterHold: { deferredVersion: 2, ended: 'decided_again' },
    });
    expect(revised?.type === 'RoutingRevised' && revised.afterHold?.heldMs).toBeGreaterThanOrEqual(5000);
    const state = await stack.stateOf(job.jobId as string);
    expect(state).toMatchObject({ held: false, closed: false, done: null });
    expect(state.dispatches.map((d) => [d.version, d.decision.provider])).toEqual([
      [1, 'fal'],
      [3, 'replicate'],
    ]);
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
    // Projected as any revision: a new dispatchId, announced video.job.rerouted.
    const plan = planEffects(revised as Extract<RoutingLogRecord, { type: 'RoutingRevised' }>);
    expect(plan.dispatch).toMatchObject({ dispatchId: `${job.jobId}:v3`, provider: 'replicate' });
    expect(plan.announcement.detailType).toBe(REROUTED_DETAIL_TYPE);

    const text = renderHistory(
      {
        jobId: job.jobId as string,
        stream: `job#${job.jobId}`,
        job: null,
        records: await stack.streamOf(job.jobId as string),
        projection: null,
        content: { status: 'hidden' },
      },
      'Jobs-test',
    );
    expect(text).toContain('RoutingDeferred  held: every candidate left full (replicate)');
    expect(text).toContain(
      `re-routing (revision 1 of v1) after fal/wan-i2v failed (dispatch ${job.jobId}:v1`,
    );
    expect(text).toMatch(/RoutingRevised {2}revision 1 of v1: routed → replicate/);
    expect(text).toMatch(/held \d+\.\d s since .* \(v2\): decided again before its maximum hold/);
  });

  it('given a held re-routing, when the same failure is reported again, then nothing new is recorded and its recheck is sent again', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    await stack.submit({ provider: 'replicate' });
    await stack.fail(job.jobId as string, 'sig-1');
    stack.backlog.take();
    const again = await stack.fail(job.jobId as string, 'sig-1-copy');
    expect(again.revision).toMatchObject({ outcome: 'held', duplicate: true, record: { version: 2 } });
    expect(await stack.streamOf(job.jobId as string)).toHaveLength(2);
    expect(stack.backlog.sent.map((s) => s.message)).toContainEqual({ kind: 'recheck', jobId: job.jobId });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toHaveLength(1);
  });

  it('given a held re-routing, when its maximum hold passes with Replicate still full, then the revision rejects it capacity_exhausted and the job is closed', async () => {
    const stack = aStack(
      aTableWithConcurrency({ fal: 1, replicate: 1 }, { 'auto-short-720p-fal': { maxHoldSec: 60 } }),
    );
    const job = await stack.submit(autoJob);
    await stack.submit({ provider: 'replicate' });
    await stack.fail(job.jobId as string);
    await stack.handleBacklog();
    stack.clock.now += 61_000;
    const [ended] = await stack.handleBacklog();
    expect(ended).toMatchObject({
      type: 'RoutingRevised',
      version: 3,
      decision: { type: 'RoutingRejected', reason: 'capacity_exhausted' },
      afterHold: { ended: 'max_hold', deferredVersion: 2 },
    });
    expect(await stack.stateOf(job.jobId as string)).toMatchObject({
      held: false,
      closed: true,
      done: { reason: 'rejected' },
    });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
    expect((await stack.fail(job.jobId as string, 'late')).revision).toEqual({
      outcome: 'ignored',
      why: 'closed',
    });
  });

  it('given a rule whose whenAllFull is reject, when the re-routing finds every candidate left full, then it is rejected capacity_exhausted at once, never held', async () => {
    const stack = aStack(
      aTableWithConcurrency({ fal: 1, replicate: 1 }, { 'auto-short-720p-fal': { whenAllFull: 'reject' } }),
    );
    const job = await stack.submit(autoJob);
    await stack.submit({ provider: 'replicate' });
    const failed = await stack.fail(job.jobId as string);
    expect(failed.revision).toMatchObject({
      outcome: 'revised',
      record: { version: 2, decision: { type: 'RoutingRejected', reason: 'capacity_exhausted' } },
    });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
  });

  it('given an explicit fal job, when fal fails it while Replicate is full, then it is never switched or held: provider_failed', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit({ provider: 'fal' });
    await stack.submit({ provider: 'replicate' });
    expect((await stack.fail(job.jobId as string)).revision).toMatchObject({
      outcome: 'revised',
      record: { decision: { type: 'RoutingRejected', reason: 'provider_failed' } },
    });
  });

  it('given a re-routing deferral and the revision that ends it, when stored and read back, then both round-trip', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    const onReplicate = await stack.submit({ provider: 'replicate' });
    await stack.fail(job.jobId as string);
    await stack.complete(onReplicate.jobId as string);
    await stack.handleBacklog();
    const records = await stack.streamOf(job.jobId as string);
    expect(records.map((r) => r.type)).toEqual(['RoutingDecided', 'RoutingDeferred', 'RoutingRevised']);
    for (const record of records) expect(recordFromItem(storedItemOf(record))).toEqual(record);
  });
});

/** The seed table with a third provider (luma) as the auto rule's last fallback, and a preference. */
function aThreeProviderTable(rule: Record<string, unknown>): RoutingTable {
  const base = aTableWithConcurrency({ fal: 1, replicate: 1 }) as unknown as {
    providers: Record<string, unknown>;
    rules: Record<string, unknown>[];
  };
  return loadRoutingTable({
    ...base,
    version: 'three-providers',
    providers: {
      ...base.providers,
      luma: { queue: 'LumaJobQueue', concurrency: 1, models: { ray: { pricePerSecond: 0.2 } } },
    },
    rules: base.rules.map((r) =>
      r.id === 'auto-short-720p-fal'
        ? {
            ...r,
            ...rule,
            fallbacks: [
              { provider: 'replicate', model: 'wan-2.1-i2v' },
              { provider: 'luma', model: 'ray' },
            ],
          }
        : r,
    ),
  });
}

const measuredRun = (seconds: number): PairEta => ({
  run: { '720p|l10': { p50Ms: seconds * 1000, p95Ms: seconds * 1500, samples: 5 } },
  runAll: { p50Ms: seconds * 1000, p95Ms: seconds * 1500, samples: 5 },
  queue: null,
  attempts: 5,
  succeeded: 5,
  chargedMicroUsd: 0,
  chargedOutputMs: 0,
  fromMs: 0,
  toMs: 10_000,
});

/** fal fastest, then luma, Replicate slowest: measured run times of each pair. */
const lumaFasterThanReplicate: EtaContext = {
  pairs: {
    'fal#wan-i2v': measuredRun(60),
    'replicate#wan-2.1-i2v': measuredRun(600),
    'luma#ray': measuredRun(120),
  },
  slotsFree: {},
};

describe('a re-routing under prefer', () => {
  it('given prefer eta and luma measured faster than Replicate, when fal fails an auto job, then the re-routing goes to luma with every candidate quoted', async () => {
    const stack = aStack(aThreeProviderTable({ prefer: 'eta' }), lumaFasterThanReplicate);
    const job = await stack.submit(autoJob);
    expect(job).toMatchObject({ provider: 'fal' });
    const failed = await stack.fail(job.jobId as string);
    expect(failed.revision).toMatchObject({
      outcome: 'revised',
      record: { decision: { type: 'RoutingDecided', provider: 'luma' } },
    });
    const revised = failed.revision as unknown as {
      record: { decision: { explanation: { candidates: unknown[] } } };
    };
    const trail = revised.record.decision.explanation.candidates as {
      provider: string;
      reason?: string;
      quote?: { etaP95Sec: number };
    }[];
    expect(trail.filter((c) => c.quote).map((c) => [c.provider, c.reason, c.quote?.etaP95Sec])).toEqual([
      ['fal', 'already_tried', 90],
      ['luma', undefined, 180],
      ['replicate', 'not_preferred', 900],
    ]);
  });

  it('given prefer eta with luma and Replicate full, when fal fails an auto job, then it is held for both and re-routed to the first that frees', async () => {
    const stack = aStack(aThreeProviderTable({ prefer: 'eta' }), lumaFasterThanReplicate);
    const job = await stack.submit(autoJob);
    await stack.submit({ provider: 'replicate' });
    const onLuma = await stack.submit(autoJob);
    expect(onLuma).toMatchObject({ provider: 'luma' });
    const failed = await stack.fail(job.jobId as string);
    expect(failed.revision).toMatchObject({ outcome: 'held', record: { waitingFor: ['luma', 'replicate'] } });
    await stack.handleBacklog();
    await stack.complete(onLuma.jobId as string);
    const [revised] = await stack.handleBacklog();
    expect(revised).toMatchObject({ type: 'RoutingRevised', decision: { provider: 'luma' } });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
  });
});
