/**
 * A re-routing decided like a first decision (issue 21): when a dispatch fails at the provider and
 * every candidate left is full, the job is held — a RoutingDeferred naming the failure, in the
 * waiting lines, woken by the Holds function, bounded by maxHoldSec/atMaxHold — and a re-routing
 * applies `prefer` with its quotes recorded. Through the real commands (RouteJob,
 * HandleProviderSignal, the Holds messages) over the in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import { renderHistory } from '../../src/cli/verbs/history.ts';
import { planReplayStep, type ReplayPolicy } from '../../src/commands/replay-plan.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../../src/log/stored-records.ts';
import { planEffects, REROUTED_DETAIL_TYPE } from '../../src/projections/effects.ts';
import type { EtaContext } from '../../src/routing/eta.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';
import { aMeasuredPair, aTableWithConcurrency } from '../support/capacity.ts';
import { aCapacityStack } from '../support/capacity-stack.ts';

const T0 = Date.parse('2026-11-25T14:00:00.000Z');

const aStack = (table: RoutingTable, eta?: EtaContext) => aCapacityStack(table, T0, eta);

const autoJob = { provider: 'auto', lengthSec: 8, resolution: '720p' };

describe('a re-routing that finds every candidate left full', () => {
  it('given an auto job on fal and Replicate full, when fal fails it, then it is held for Replicate only (never back to fal) and re-routed there once a Replicate slot frees', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    const onReplicate = await stack.submit({ provider: 'replicate' });
    expect(job).toMatchObject({ type: 'RoutingDecided', data: { provider: 'fal' } });

    const failed = await stack.fail(job.metadata.jobId as string);
    expect(failed.slotReleased).toBe('fal');
    expect(failed.revision).toMatchObject({
      outcome: 'held',
      duplicate: false,
      record: {
        type: 'RoutingDeferred',
        data: {
          waitingFor: ['replicate'],
          atMaxHold: 'reject',
          reroute: {
            revision: 1,
            revises: 1,
            failedDispatchId: `${job.metadata.jobId}:v1`,
            failedProvider: 'fal',
          },
        },
        metadata: { version: 2 },
      },
    });
    expect(await stack.stateOf(job.metadata.jobId as string)).toMatchObject({ held: true, version: 2 });
    expect(stack.backlog.sent.map((s) => s.message)).toEqual([
      { kind: 'slot_freed', provider: 'fal' },
      { kind: 'recheck', jobId: job.metadata.jobId },
    ]);

    // fal's slot is free, but the job already failed there: the drain of fal's line and the job's
    // own recheck leave it held for Replicate, and a new auto job takes fal.
    expect(await stack.handleBacklog()).toEqual([]);
    expect(await stack.stateOf(job.metadata.jobId as string)).toMatchObject({ held: true });
    expect(await stack.submit(autoJob)).toMatchObject({ type: 'RoutingDecided', data: { provider: 'fal' } });

    stack.clock.now += 5000;
    await stack.complete(onReplicate.metadata.jobId as string);
    const [revised] = await stack.handleBacklog();
    expect(revised).toMatchObject({
      type: 'RoutingRevised',
      data: {
        revision: 1,
        revises: 1,
        failedProvider: 'fal',
        decision: { type: 'RoutingDecided', data: { provider: 'replicate', queue: 'ReplicateJobQueue' } },
        afterHold: { deferredVersion: 2, ended: 'decided_again' },
      },
      metadata: { version: 3 },
    });
    expect(revised?.type === 'RoutingRevised' && revised.data.afterHold?.heldMs).toBeGreaterThanOrEqual(5000);
    const state = await stack.stateOf(job.metadata.jobId as string);
    expect(state).toMatchObject({ held: false, closed: false, done: null });
    expect(state.dispatches.map((d) => [d.version, d.decision.data.provider])).toEqual([
      [1, 'fal'],
      [3, 'replicate'],
    ]);
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
    // Projected as any revision: a new dispatchId, announced video.job.rerouted.
    const plan = planEffects(revised as Extract<RoutingLogRecord, { type: 'RoutingRevised' }>);
    expect(plan.dispatch).toMatchObject({ dispatchId: `${job.metadata.jobId}:v3`, provider: 'replicate' });
    expect(plan.announcement.detailType).toBe(REROUTED_DETAIL_TYPE);

    const text = renderHistory(
      {
        jobId: job.metadata.jobId as string,
        stream: `job#${job.metadata.jobId}`,
        job: null,
        records: await stack.streamOf(job.metadata.jobId as string),
        projection: null,
        content: { status: 'hidden' },
      },
      'Jobs-test',
    );
    expect(text).toContain('RoutingDeferred  held: every candidate left full (replicate)');
    expect(text).toContain(
      `re-routing (revision 1 of v1) after fal/wan-i2v failed (dispatch ${job.metadata.jobId}:v1`,
    );
    expect(text).toMatch(/RoutingRevised {2}revision 1 of v1: routed → replicate/);
    expect(text).toMatch(/held \d+\.\d s since .* \(v2\): decided again before its maximum hold/);
  });

  it('given a held re-routing, when the same failure is reported again, then nothing new is recorded and its recheck is sent again', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    await stack.submit({ provider: 'replicate' });
    await stack.fail(job.metadata.jobId as string, 'sig-1');
    stack.backlog.take();
    const again = await stack.fail(job.metadata.jobId as string, 'sig-1-copy');
    expect(again.revision).toMatchObject({
      outcome: 'held',
      duplicate: true,
      record: { metadata: { version: 2 } },
    });
    expect(await stack.streamOf(job.metadata.jobId as string)).toHaveLength(2);
    expect(stack.backlog.sent.map((s) => s.message)).toContainEqual({
      kind: 'recheck',
      jobId: job.metadata.jobId,
    });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toHaveLength(1);
  });

  it('given a held re-routing, when its maximum hold passes with Replicate still full, then the revision rejects it capacity_exhausted and the job is closed', async () => {
    const stack = aStack(
      aTableWithConcurrency({ fal: 1, replicate: 1 }, { 'auto-short-720p-fal': { maxHoldSec: 60 } }),
    );
    const job = await stack.submit(autoJob);
    await stack.submit({ provider: 'replicate' });
    await stack.fail(job.metadata.jobId as string);
    await stack.handleBacklog();
    stack.clock.now += 61_000;
    const [ended] = await stack.handleBacklog();
    expect(ended).toMatchObject({
      type: 'RoutingRevised',
      data: {
        decision: { type: 'RoutingRejected', data: { reason: 'capacity_exhausted' } },
        afterHold: { ended: 'max_hold', deferredVersion: 2 },
      },
      metadata: { version: 3 },
    });
    expect(await stack.stateOf(job.metadata.jobId as string)).toMatchObject({
      held: false,
      closed: true,
      done: { reason: 'rejected' },
    });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
    expect((await stack.fail(job.metadata.jobId as string, 'late')).revision).toEqual({
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
    const failed = await stack.fail(job.metadata.jobId as string);
    expect(failed.revision).toMatchObject({
      outcome: 'revised',
      record: {
        data: { decision: { type: 'RoutingRejected', data: { reason: 'capacity_exhausted' } } },
        metadata: { version: 2 },
      },
    });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
  });

  it('given an explicit fal job, when fal fails it while Replicate is full, then it is never switched or held: provider_failed', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit({ provider: 'fal' });
    await stack.submit({ provider: 'replicate' });
    expect((await stack.fail(job.metadata.jobId as string)).revision).toMatchObject({
      outcome: 'revised',
      record: { data: { decision: { type: 'RoutingRejected', data: { reason: 'provider_failed' } } } },
    });
  });

  it('given a re-routing deferral and the revision that ends it, when stored and read back, then both round-trip', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    const onReplicate = await stack.submit({ provider: 'replicate' });
    await stack.fail(job.metadata.jobId as string);
    await stack.complete(onReplicate.metadata.jobId as string);
    await stack.handleBacklog();
    const records = await stack.streamOf(job.metadata.jobId as string);
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

/** fal fastest, then luma, Replicate slowest: measured run times of each pair. */
const lumaFasterThanReplicate: EtaContext = {
  pairs: {
    'fal#wan-i2v': aMeasuredPair(60),
    'replicate#wan-2.1-i2v': aMeasuredPair(600),
    'luma#ray': aMeasuredPair(120),
  },
  slotsFree: {},
};

describe('a re-routing under prefer', () => {
  it('given prefer eta and luma measured faster than Replicate, when fal fails an auto job, then the re-routing goes to luma with every candidate quoted', async () => {
    const stack = aStack(aThreeProviderTable({ prefer: 'eta' }), lumaFasterThanReplicate);
    const job = await stack.submit(autoJob);
    expect(job).toMatchObject({ data: { provider: 'fal' } });
    const failed = await stack.fail(job.metadata.jobId as string);
    expect(failed.revision).toMatchObject({
      outcome: 'revised',
      record: { data: { decision: { type: 'RoutingDecided', data: { provider: 'luma' } } } },
    });
    const revised = failed.revision as unknown as {
      record: { data: { decision: { data: { explanation: { candidates: unknown[] } } } } };
    };
    const trail = revised.record.data.decision.data.explanation.candidates as {
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
    expect(onLuma).toMatchObject({ data: { provider: 'luma' } });
    const failed = await stack.fail(job.metadata.jobId as string);
    expect(failed.revision).toMatchObject({
      outcome: 'held',
      record: { data: { waitingFor: ['luma', 'replicate'] } },
    });
    await stack.handleBacklog();
    await stack.complete(onLuma.metadata.jobId as string);
    const [revised] = await stack.handleBacklog();
    expect(revised).toMatchObject({
      type: 'RoutingRevised',
      data: { decision: { data: { provider: 'luma' } } },
    });
    expect(await stack.ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
  });
});

describe('a replay while a re-routing is held', () => {
  const replayFal: ReplayPolicy = {
    selection: { providers: ['fal'], outcome: 'routed' },
    payAgainFor: new Set(),
  };
  const author = {
    incident: 'INC-HELD',
    requestedBy: 'ops',
    why: 'fal outage',
    at: '2026-11-25T15:00:00.000Z',
  };

  it('given an auto job whose fal dispatch failed and whose re-routing waits for Replicate, when fal is replayed, then it is skipped as held (never paid at fal again), and once re-routed it is dispatched elsewhere', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    const job = await stack.submit(autoJob);
    const onReplicate = await stack.submit({ provider: 'replicate' });
    const jobId = job.metadata.jobId as string;
    await stack.fail(jobId);

    expect(planReplayStep(await stack.stateOf(jobId), author, undefined, replayFal)).toMatchObject({
      action: 'skipped',
      reason: 'held',
      current: { version: 1 },
    });

    await stack.complete(onReplicate.metadata.jobId as string);
    await stack.handleBacklog();
    expect(await stack.stateOf(jobId)).toMatchObject({ held: false });
    expect(planReplayStep(await stack.stateOf(jobId), author, undefined, replayFal)).toMatchObject({
      action: 'skipped',
      reason: 'dispatched_elsewhere',
      current: { record: { type: 'RoutingRevised' } },
    });
  });
});
