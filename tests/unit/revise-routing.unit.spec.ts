import { describe, expect, it } from 'vitest';
import { MAX_REVISIONS, reviseRouting } from '../../src/commands/revise-routing.ts';
import type { RoutingRevisedRecord } from '../../src/log/routing-records.ts';
import { FAILED_DETAIL_TYPE, planEffects, REROUTED_DETAIL_TYPE } from '../../src/projections/effects.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aFailure, aRoutedJobInLog } from '../support/revisions.ts';

describe('re-routing a job whose current dispatch failed', () => {
  it('given an auto job on fal, when fal fails it terminally, then revision 1 sends it to Replicate at version 2', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    const result = await reviseRouting(aFailure(decision), { log, rules });
    expect(result).toMatchObject({
      outcome: 'revised',
      record: {
        type: 'RoutingRevised',
        data: {
          revision: 1,
          revises: 1,
          failedProvider: 'fal',
          decision: {
            type: 'RoutingDecided',
            data: { provider: 'replicate', model: 'wan-2.1-i2v' },
            metadata: { recordedAt: '2026-11-25T14:02:07.000Z' },
          },
        },
        metadata: { version: 2 },
      },
    });
    const revised = (result as { record: RoutingRevisedRecord }).record;
    expect(revised.data.decision.data.explanation?.candidates).toContainEqual(
      expect.objectContaining({ provider: 'fal', reason: 'already_tried' }),
    );
  });

  it('given the revision is projected, then it dispatches under a new dispatchId, moves Jobs to v2 and announces video.job.rerouted', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    const { record } = (await reviseRouting(aFailure(decision), { log, rules })) as {
      record: RoutingRevisedRecord;
    };
    const plan = planEffects(record);
    expect(plan.dispatch).toMatchObject({
      dispatchId: `${decision.metadata.jobId}:v2`,
      provider: 'replicate',
      body: { routingVersion: 2 },
    });
    expect(plan.jobStatus).toMatchObject({ status: 'ROUTED', provider: 'replicate', routingVersion: 2 });
    expect(plan.announcement).toMatchObject({
      detailType: REROUTED_DETAIL_TYPE,
      detail: { routingVersion: 2, previousProvider: 'fal' },
    });
  });

  it('given the same failure reported twice, then one revision is recorded and the second is a duplicate', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    const failure = aFailure(decision);
    const [first, second] = await Promise.all([
      reviseRouting(failure, { log, rules }),
      reviseRouting({ ...failure, signalId: 'other-copy' }, { log, rules }),
    ]);
    expect([first.outcome, second.outcome].sort()).toEqual(['duplicate', 'revised']);
    expect(await log.readStream(decision.metadata.stream)).toHaveLength(2);
  });

  it('given a report about an older dispatch, then nothing changes (fencing)', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    await reviseRouting(aFailure(decision), { log, rules });
    expect(await reviseRouting(aFailure(decision), { log, rules })).toEqual({
      outcome: 'ignored',
      why: 'not_current',
    });
  });

  it.each(['unknown', 'failed_retryable', 'succeeded'])(
    'given a %s outcome, then the job is not re-routed blind',
    async (outcome) => {
      const { log, decision, rules } = await aRoutedJobInLog();
      expect(await reviseRouting(aFailure(decision, 1, { outcome }), { log, rules })).toEqual({
        outcome: 'ignored',
        why: 'not_terminal',
      });
    },
  );

  it('given an explicit fal job, when fal fails it, then it is not switched: provider_failed, announced video.job.failed', async () => {
    const { log, decision, rules } = await aRoutedJobInLog({ provider: 'fal' });
    const { record } = (await reviseRouting(aFailure(decision), { log, rules })) as {
      record: RoutingRevisedRecord;
    };
    expect(record.data.decision).toMatchObject({
      type: 'RoutingRejected',
      data: { reason: 'provider_failed' },
    });
    const plan = planEffects(record);
    expect(plan).toMatchObject({
      dispatch: null,
      jobStatus: null,
      announcement: { detailType: FAILED_DETAIL_TYPE },
    });
    expect(await reviseRouting(aFailure(decision, 1, { signalId: 'later' }), { log, rules })).toEqual({
      outcome: 'ignored',
      why: 'closed',
    });
  });

  it(`given ${MAX_REVISIONS} revisions, when the current dispatch fails again, then the job is rejected retries_exhausted`, async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    const first = (await reviseRouting(aFailure(decision), { log, rules })) as {
      record: RoutingRevisedRecord;
    };
    // No untried provider is left after fal and Replicate: the second failure already exhausts it.
    const second = (await reviseRouting(
      aFailure({ jobId: decision.metadata.jobId, provider: 'replicate', model: 'wan-2.1-i2v' }, 2),
      { log, rules },
    )) as {
      record: RoutingRevisedRecord;
    };
    expect(first.record.data.decision.type).toBe('RoutingDecided');
    expect(second.record).toMatchObject({
      data: { revision: 2, decision: { type: 'RoutingRejected', data: { reason: 'retries_exhausted' } } },
      metadata: { version: 3 },
    });
    expect(planEffects(second.record).jobStatus).toMatchObject({
      status: 'REJECTED',
      reason: 'retries_exhausted',
      routingVersion: 3,
    });
  });

  it('given a third provider to fall back to, when the second revision fails too, then the count stops it: retries_exhausted', async () => {
    const table = structuredClone(defaultRoutingTable) as unknown as {
      version: string;
      providers: Record<string, unknown>;
      rules: Record<string, unknown>[];
    };
    table.version = 'three-providers';
    table.providers.veo = { queue: 'VeoJobQueue', models: { 'veo-3-fast': { pricePerSecond: 0.2 } } };
    (table.rules[2] as Record<string, unknown>).fallbacks = [
      { provider: 'replicate', model: 'wan-2.1-i2v' },
      { provider: 'veo', model: 'veo-3-fast' },
    ];
    const { log, decision } = await aRoutedJobInLog();
    const rules = fixedRules(loadRoutingTable(table));
    const revise = async (provider: string, model: string, version: number) =>
      (
        (await reviseRouting(aFailure({ jobId: decision.metadata.jobId, provider, model }, version), {
          log,
          rules,
        })) as {
          record: RoutingRevisedRecord;
        }
      ).record;
    expect((await revise('fal', 'wan-i2v', 1)).data.decision).toMatchObject({
      data: { provider: 'replicate' },
    });
    expect((await revise('replicate', 'wan-2.1-i2v', 2)).data.decision).toMatchObject({
      data: { provider: 'veo' },
    });
    expect(await revise('veo', 'veo-3-fast', 3)).toMatchObject({
      data: { revision: 3, decision: { data: { reason: 'retries_exhausted' } } },
    });
  });

  it('given a job with no routed decision, then a failure report changes nothing', async () => {
    const { log, decision, rules } = await aRoutedJobInLog({ resolution: '4k' });
    expect(
      await reviseRouting(aFailure({ jobId: decision.metadata.jobId, provider: 'fal', model: 'wan-i2v' }), {
        log,
        rules,
      }),
    ).toEqual({ outcome: 'ignored', why: 'no_routed_decision' });
  });
});
