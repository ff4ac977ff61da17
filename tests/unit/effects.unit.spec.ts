import { describe, expect, it } from 'vitest';
import { planEffects } from '../../src/projections/effects.ts';
import {
  aNoRouteRecord,
  anInvalidRequestRecord,
  aReplayOf,
  aRoutedRecord,
  RECORDED_AT,
  withData,
} from '../support/records.ts';
import { aRevisionRecord } from '../support/revisions.ts';

describe('planEffects', () => {
  it('given a routed auto job with extra fields, then the provider-queue body is the job itself at top level with the routing facts beside it', () => {
    const record = aRoutedRecord({
      provider: 'auto',
      referenceImage: 'data:image/png;base64,AAAA',
      meta: { a: 1 },
    });
    const body = planEffects(record).dispatch?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      prompt: 'corgi surfing',
      referenceImage: 'data:image/png;base64,AAAA',
      meta: { a: 1 },
      provider: 'fal',
      requestedProvider: 'auto',
      routingVersion: 1,
    });
    expect(body).not.toHaveProperty('job');
  });

  it('given extra fields named like routing facts, then the routing facts win', () => {
    const record = aRoutedRecord({
      provider: 'fal',
      model: 'mine',
      queue: 'Q',
      dispatchId: 'x',
      routingVersion: 9,
      routedAt: 'then',
      requestedProvider: 'me',
    });
    const body = planEffects(record).dispatch?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'wan-i2v',
      queue: 'FalJobQueue',
      dispatchId: `${record.metadata.jobId}:v1`,
      routingVersion: 1,
      routedAt: RECORDED_AT,
      requestedProvider: 'fal',
    });
  });

  it('given a replay at version 2, then the body carries the new dispatchId and routingVersion 2', () => {
    const body = planEffects(aReplayOf(aRoutedRecord())).dispatch?.body as Record<string, unknown>;
    expect(body).toMatchObject({ routingVersion: 2 });
    expect(String(body.dispatchId)).toMatch(/:v2$/);
  });

  it('given a replay and a re-route, then their messages say so: kind, revision and the dispatch they supersede', async () => {
    const decision = aRoutedRecord({ provider: 'fal' });
    const replay = withData(aReplayOf(decision), {
      previousDispatchId: `${decision.metadata.jobId}:v1`,
      revision: 0,
    });
    expect(planEffects(replay).dispatch?.body).toMatchObject({
      dispatchKind: 'replay',
      revision: 0,
      previousDispatchId: `${decision.metadata.jobId}:v1`,
      routingVersion: 2,
    });
    const revision = await aRevisionRecord('routed');
    expect(planEffects(revision).dispatch?.body).toMatchObject({
      dispatchKind: 'reroute',
      revision: 1,
      previousDispatchId: revision.data.failedDispatchId,
      routingVersion: revision.metadata.version,
    });
  });

  it('given a RoutingDecided record, then it plans a dispatch, a routed announcement and status ROUTED with ids from the record', () => {
    const record = aRoutedRecord({ provider: 'fal', prompt: 'corgi surfing' });
    const plan = planEffects(record);
    expect(plan.effectId).toBe(`${record.metadata.stream}:v1`);
    expect(plan.dispatch).toEqual({
      dispatchId: `${record.metadata.jobId}:v1`,
      jobId: record.metadata.jobId,
      provider: 'fal',
      body: {
        ...JSON.parse(record.data.job),
        jobId: record.metadata.jobId,
        provider: 'fal',
        requestedProvider: 'fal',
        model: 'wan-i2v',
        queue: 'FalJobQueue',
        dispatchId: `${record.metadata.jobId}:v1`,
        routingVersion: 1,
        routedAt: RECORDED_AT,
        dispatchKind: 'decision',
        revision: 0,
        previousDispatchId: null,
      },
    });
    expect(plan.announcement).toEqual({
      detailType: 'video.job.routed',
      detail: {
        jobId: record.metadata.jobId,
        provider: 'fal',
        model: 'wan-i2v',
        queue: 'FalJobQueue',
        routedBy: 'RoutingManager',
        ts: RECORDED_AT,
        announcementId: `${record.metadata.stream}:v1:announce`,
        rulesVersion: record.data.explanation.rulesVersion,
        matchedRule: 'explicit-fal',
      },
    });
    expect(plan.jobStatus).toMatchObject({
      status: 'ROUTED',
      provider: 'fal',
      reason: null,
      routingVersion: 1,
    });
  });

  it('given the same record twice, then the plans are identical (deterministic across redeliveries)', () => {
    const record = aRoutedRecord();
    expect(planEffects(structuredClone(record))).toEqual(planEffects(record));
  });

  it('given a no_route rejection, then it plans no dispatch, a rejected announcement and status REJECTED', () => {
    const plan = planEffects(aNoRouteRecord());
    expect(plan.dispatch).toBeNull();
    expect(plan.announcement.detailType).toBe('video.job.rejected');
    expect(plan.announcement.detail).toMatchObject({
      status: 'rejected',
      reason: 'no_route',
      fieldErrors: [],
    });
    expect(plan.jobStatus).toMatchObject({ status: 'REJECTED', reason: 'no_route', provider: null });
  });

  it('given an invalid event without a jobId, then it plans an announcement only', () => {
    const plan = planEffects(anInvalidRequestRecord({ withJobId: false }));
    expect(plan.jobId).toBeNull();
    expect(plan.dispatch).toBeNull();
    expect(plan.jobStatus).toBeNull();
    expect(plan.announcement.detail).toMatchObject({
      jobId: null,
      reason: 'invalid_request',
      rulesVersion: null,
      matchedRule: null,
      fieldErrors: expect.arrayContaining([expect.objectContaining({ path: 'detail.lengthSec' })]),
    });
  });

  it('given a replay of a routed decision, then every id carries the replay version and ts stays the decision time', () => {
    const decision = aRoutedRecord();
    const plan = planEffects(aReplayOf(decision, 3));
    expect(plan.recordType).toBe('ProjectionReplayRequested');
    expect(plan.effectId).toBe(`${decision.metadata.stream}:v3`);
    expect(plan.dispatch?.dispatchId).toBe(`${decision.metadata.jobId}:v3`);
    expect(plan.announcement.detail).toMatchObject({
      announcementId: `${decision.metadata.stream}:v3:announce`,
      ts: RECORDED_AT,
    });
    expect(plan.jobStatus?.routingVersion).toBe(3);
  });

  it('given a replay of a rejection, then it re-announces and re-converges REJECTED without dispatch', () => {
    const plan = planEffects(aReplayOf(aNoRouteRecord()));
    expect(plan.dispatch).toBeNull();
    expect(plan.jobStatus).toMatchObject({ status: 'REJECTED', routingVersion: 2 });
  });
});

describe('planEffects: a held job', () => {
  const deferral = (version: number) => {
    const routed = aRoutedRecord({ provider: 'auto' });
    return {
      type: 'RoutingDeferred' as const,
      data: {
        outcome: 'held' as const,
        job: routed.data.job,
        requestedProvider: 'auto',
        explanation: routed.data.explanation,
        waitingFor: ['replicate'],
        holdUntil: RECORDED_AT,
        atMaxHold: 'reject' as const,
      },
      metadata: { ...routed.metadata, version },
    };
  };

  it.each([1, 2])(
    'given a deferral at version %i (a first decision’s hold, or a re-routing’s after the failed dispatch), then the Jobs item goes to HELD at that version, with nothing dispatched or announced',
    (version) => {
      const record = deferral(version);
      const plan = planEffects(record);
      expect(plan).toMatchObject({ dispatch: null, announcement: null, version });
      expect(plan.jobStatus).toEqual({
        jobId: record.metadata.jobId,
        status: 'HELD',
        provider: null,
        model: null,
        queue: null,
        reason: null,
        routedAt: RECORDED_AT,
        routingVersion: version,
      });
    },
  );
});
