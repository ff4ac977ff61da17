/** Re-drive of abandoned projections: the pure plan, the command, and the projector's handling. */

import { describe, expect, it } from 'vitest';
import { renderHistory } from '../../src/cli/verbs/history.ts';
import { renderRedriveSummary } from '../../src/cli/verbs/redrive.ts';
import { decideDispatchOutcome } from '../../src/commands/record-dispatch-outcome.ts';
import { missingEffects, planRedriveSteps, redriveIdOf } from '../../src/commands/redrive-plan.ts';
import { redriveProjections } from '../../src/commands/redrive-projections.ts';
import { splitJob } from '../../src/content/job-content.ts';
import { protectRecord } from '../../src/content/protect-record.ts';
import { VersionConflictError } from '../../src/errors.ts';
import { type JobState, jobStateOf } from '../../src/log/job-state.ts';
import type {
  ContentErasedRecord,
  DecisionRecord,
  ProjectionRedriveRequestedRecord,
  RoutingLogRecord,
  RoutingRevisedRecord,
} from '../../src/log/routing-records.ts';
import type { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryEffectMarkers } from '../../src/memory/in-memory-effect-markers.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { EffectMarker } from '../../src/ports/effect-markers.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import { projectWithContent } from '../../src/projections/content-retention.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { projectRecords } from '../../src/projections/project-records.ts';
import { readContentStatus } from '../../src/queries/content-status.ts';
import { contentKeyRing } from '../support/content.ts';
import { appendRecord } from '../support/log-appends.ts';
import { fakePorts, InMemoryJobs } from '../support/projector-fakes.ts';
import {
  aNoRouteRecord,
  aReplayOf,
  aRevisionOf as aRevisionFrom,
  aRoutedRecord,
  RECORDED_AT,
  withData,
  withMetadata,
  withVersion,
} from '../support/records.ts';

const AUTHOR = {
  incident: 'INC-1',
  requestedBy: 'ops',
  why: 'abandoned batch',
  at: '2026-11-25T12:00:00.000Z',
};
const JUDGEABLE = '2026-11-20T00:00:00.000Z';
const WINDOW = { since: '2026-11-25T00:00:00.000Z', until: '2026-11-26T00:00:00.000Z' };

const complete = (effectId: string): EffectMarker => ({
  effectId,
  dispatched: true,
  dispatchedAt: RECORDED_AT,
  announced: true,
  announcedAt: RECORDED_AT,
  statusProjected: true,
  statusProjectedAt: RECORDED_AT,
});

function given(
  decisions: DecisionRecord[],
  log: RoutingLog = new InMemoryRoutingLog(),
  contentOf?: (job: JobState) => Promise<'erased' | 'expired' | 'retained'>,
) {
  const markers = new InMemoryEffectMarkers();
  const run = (options: { dryRun?: boolean; incident?: string; now?: string } = {}) =>
    redriveProjections(
      {
        type: 'RedriveProjections',
        data: {
          providers: ['fal', 'replicate', 'auto', 'none'],
          window: WINDOW,
          incident: options.incident ?? 'INC-1',
          why: 'abandoned batch',
          requestedBy: 'ops',
          dryRun: options.dryRun ?? false,
          markerTtlDays: 7,
        },
      },
      {
        log,
        markers,
        decisions: {
          async *decisions() {
            yield* decisions;
          },
        },
        now: () => new Date(options.now ?? '2026-11-25T12:00:00.000Z'),
        ...(contentOf ? { contentOf } : {}),
      },
    );
  return { log, markers, run };
}

describe('redrive plan', () => {
  it('given a routed decision without a marker, then all three effects are missing and one re-drive is planned at the next version with the original ids', () => {
    const decision = aRoutedRecord();
    const [step] = planRedriveSteps(jobStateOf([decision]), new Map(), AUTHOR, JUDGEABLE);
    expect(step).toMatchObject({ action: 'append', missing: ['dispatch', 'announce', 'status'] });
    expect(step?.record).toMatchObject({
      type: 'ProjectionRedriveRequested',
      data: { redriveOf: 1, redriveId: redriveIdOf('INC-1'), incident: 'INC-1' },
      metadata: { version: 2 },
    });
    const plan = planEffects(step?.record as ProjectionRedriveRequestedRecord);
    expect(plan).toEqual(planEffects(decision));
  });

  it('given a rejection, then a dispatch is never owed', () => {
    const plan = planEffects(aNoRouteRecord());
    expect(missingEffects(plan, { ...complete(plan.effectId), dispatched: false })).toEqual([]);
  });

  it('given a complete marker, a re-drive already requested by this incident, and a too-old target, then nothing is appended for them', () => {
    const decision = aRoutedRecord();
    const old = withMetadata(aRoutedRecord(), { recordedAt: '2026-11-01T00:00:00.000Z' });
    const [first] = planRedriveSteps(jobStateOf([decision]), new Map(), AUTHOR, JUDGEABLE);
    const replay = aReplayOf(decision, 3);
    const stream = [decision, first?.record as ProjectionRedriveRequestedRecord, replay];
    const markers = new Map([[planEffects(replay).effectId, complete(planEffects(replay).effectId)]]);
    expect(planRedriveSteps(jobStateOf(stream), markers, AUTHOR, JUDGEABLE).map((s) => s.action)).toEqual([
      'already_requested',
      'complete',
    ]);
    expect(planRedriveSteps(jobStateOf([old]), new Map(), AUTHOR, JUDGEABLE).map((s) => s.action)).toEqual([
      'too_old',
    ]);
    expect(
      planRedriveSteps(jobStateOf([decision]), new Map(), { ...AUTHOR, incident: 'INC-2' }, JUDGEABLE)[0]
        ?.record?.data.redriveId,
    ).not.toBe(redriveIdOf('INC-1'));
  });
});

describe('history of a re-driven job', () => {
  it('given a re-drive record, then history shows which version it re-drives, the incident and why', () => {
    const decision = aRoutedRecord();
    const [step] = planRedriveSteps(jobStateOf([decision]), new Map(), AUTHOR, JUDGEABLE);
    const text = renderHistory(
      {
        jobId: decision.metadata.jobId,
        stream: decision.metadata.stream,
        job: null,
        records: [decision, step?.record as ProjectionRedriveRequestedRecord],
        projection: null,
        content: { status: 'hidden' },
      },
      'Jobs-test',
    );
    expect(text).toContain('ProjectionRedriveRequested  re-drives v1 with its original ids');
    expect(text).toContain('incident INC-1');
  });
});

describe('RedriveProjections', () => {
  it('given incomplete and complete jobs, when run twice, then the dry run reports what the first run appends and the second appends nothing', async () => {
    const incomplete = aRoutedRecord();
    const done = aNoRouteRecord();
    const { log, markers, run } = given([incomplete, done, incomplete]);
    await appendRecord(log, incomplete);
    await appendRecord(log, done);
    await markers.write([complete(planEffects(done).effectId)]);

    const dry = await run({ dryRun: true });
    const real = await run();
    const again = await run();
    expect(dry).toMatchObject({ matched: 2, wouldAppend: 1, complete: 1, appended: 0 });
    expect(real).toMatchObject({ matched: 2, appended: 1, complete: 1 });
    expect(dry.targets.map((t) => [t.redriveVersion, t.dispatchId])).toEqual(
      real.targets.map((t) => [t.redriveVersion, t.dispatchId]),
    );
    expect(again).toMatchObject({ appended: 0, alreadyRequested: 1 });
    expect(await log.readStream(incomplete.metadata.stream)).toHaveLength(2);
    expect(renderRedriveSummary(real)).toContain('re-driven');
    expect(renderRedriveSummary(dry)).toContain('would re-drive');
  });

  it('given a log that always loses the append race, then the job is reported contended; given one that throws, then failed by error name only', async () => {
    const decision = aRoutedRecord();
    const racing: RoutingLog = {
      readStream: async () => [decision],
      appendToStream: async (stream, records) => {
        throw new VersionConflictError(stream, records[0]?.metadata.version ?? 1, { existing: decision });
      },
    };
    expect((await given([decision], racing).run()).targets).toEqual([
      expect.objectContaining({ action: 'contended' }),
    ]);
    const broken: RoutingLog = {
      readStream: async () => {
        throw Object.assign(new Error('secret prompt'), { name: 'ThrottlingException' });
      },
      appendToStream: async () => 2,
    };
    const summary = await given([decision], broken).run();
    expect(summary).toMatchObject({
      failed: 1,
      targets: [{ action: 'failed', error: 'ThrottlingException' }],
    });
    expect(renderRedriveSummary(summary)).toContain('run the same command again');
    expect(JSON.stringify(summary)).not.toContain('secret prompt');
  });

  it('given a target older than the marker TTL, then it is reported too old, not re-driven', async () => {
    const decision = aRoutedRecord();
    const { log, run } = given([decision]);
    await appendRecord(log, decision);
    const summary = await run({ now: '2026-12-31T00:00:00.000Z' });
    expect(summary).toMatchObject({ tooOld: 1, appended: 0 });
    expect(renderRedriveSummary(summary)).toContain('too old');
  });
});

describe('projecting a re-drive record', () => {
  it('given the re-drive of a dispatched-but-unannounced decision, then only the announcement and status happen, under the original ids', async () => {
    const { ports, queues, bus, markers } = fakePorts();
    const decision = aRoutedRecord();
    const plan = planEffects(decision);
    await markers.write([{ ...complete(plan.effectId), announced: false, statusProjected: false }]);
    const [step] = planRedriveSteps(jobStateOf([decision]), new Map(), AUTHOR, JUDGEABLE);
    const [outcome] = await projectRecords([step?.record as ProjectionRedriveRequestedRecord], ports);
    expect(outcome).toMatchObject({
      ok: true,
      effects: { dispatch: 'skipped', announce: 'done', status: 'done' },
    });
    expect(queues.sent).toHaveLength(0);
    expect(bus.published.map((entry) => JSON.parse(entry.detail).announcementId)).toEqual([
      `${decision.metadata.stream}:v1:announce`,
    ]);
  });

  it('given a decision and its re-drive in one batch, then the effects happen once and both records succeed', async () => {
    const { ports, queues, bus } = fakePorts();
    const decision = aRoutedRecord();
    const [step] = planRedriveSteps(jobStateOf([decision]), new Map(), AUTHOR, JUDGEABLE);
    const outcomes = await projectRecords(
      [decision, step?.record as ProjectionRedriveRequestedRecord],
      ports,
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(outcomes[1]?.effects).toEqual({ dispatch: 'skipped', announce: 'skipped', status: 'skipped' });
    expect(queues.sent).toHaveLength(1);
    expect(bus.published).toHaveLength(1);
  });
});

/** A revision of a routed decision: re-routed to replicate after fal failed terminally (v2). */
const aRevisionOf = (decision: DecisionRecord): RoutingRevisedRecord =>
  aRevisionFrom(
    decision,
    withVersion(aRoutedRecord({ provider: 'replicate', jobId: decision.metadata.jobId }), 2),
    {
      version: 2,
      recordedAt: '2026-11-25T10:00:03.000Z',
    },
  );

async function sealed<R extends DecisionRecord>(vault: InMemoryContentVault, record: R): Promise<R> {
  const key = await contentKeyRing(vault).sealingKey(new Date(RECORDED_AT));
  return protectRecord(record, splitJob(JSON.parse(record.data.job ?? '{}')), key);
}

describe('re-drive targets carry what the projector needs', () => {
  it("given an incomplete revision, when re-driven, then the re-drive carries the whole revision and is announced as video.job.rerouted with the revision's own ids", () => {
    const decision = aRoutedRecord();
    const revision = aRevisionOf(decision);
    const markers = new Map([[planEffects(decision).effectId, complete(planEffects(decision).effectId)]]);
    const steps = planRedriveSteps(jobStateOf([decision, revision]), markers, AUTHOR, JUDGEABLE);
    expect(steps.map((step) => step.action)).toEqual(['complete', 'append']);
    const record = steps[1]?.record as ProjectionRedriveRequestedRecord;
    expect(record).toMatchObject({ data: { redriveOf: 2, target: revision }, metadata: { version: 3 } });
    const plan = planEffects(record);
    expect(plan).toEqual(planEffects(revision));
    expect(plan.announcement.detailType).toBe('video.job.rerouted');
    expect(plan.dispatch?.dispatchId).toBe(`${decision.metadata.jobId}:v2`);
    expect(plan.announcement.detail.announcementId).toBe(`${decision.metadata.stream}:v2:announce`);
  });

  it("given an incomplete replay, when re-driven, then the replay's ids (its own version) are planned, not the decision's", () => {
    const decision = aRoutedRecord();
    const replay = aReplayOf(decision);
    const markers = new Map([[planEffects(decision).effectId, complete(planEffects(decision).effectId)]]);
    const record = planRedriveSteps(jobStateOf([decision, replay]), markers, AUTHOR, JUDGEABLE)[1]
      ?.record as ProjectionRedriveRequestedRecord;
    expect(planEffects(record)).toEqual(planEffects(replay));
    expect(planEffects(record).dispatch?.dispatchId).toBe(`${decision.metadata.jobId}:v2`);
  });

  it('given a replay recorded with content withheld, then it owes nothing and is never re-driven', () => {
    const decision = aRoutedRecord();
    const withheld = withData(aReplayOf(decision), { contentWithheld: 'content_erased' });
    const markers = new Map([[planEffects(decision).effectId, complete(planEffects(decision).effectId)]]);
    expect(
      planRedriveSteps(jobStateOf([decision, withheld]), markers, AUTHOR, JUDGEABLE).map((s) => s.action),
    ).toEqual(['complete']);
  });
});

describe('re-drive of a job whose content was erased', () => {
  it('given an erased routed job, when re-driven (dry and real), then the re-drive is recorded with content_erased and reports no dispatch or announcement', async () => {
    const { vault } = fakePorts();
    const decision = await sealed(vault, aRoutedRecord());
    const erased: ContentErasedRecord = {
      type: 'ContentErased',
      data: { erasureId: 'erasure-1', requestedBy: 'dpo', why: 'request #1' },
      metadata: {
        stream: decision.metadata.stream,
        version: 2,
        schemaVersion: 1,
        jobId: decision.metadata.jobId,
        recordedAt: '2026-11-25T10:00:04.000Z',
      },
    };
    const keys = contentKeyRing(vault);
    const contentOf = async (job: JobState) =>
      (await readContentStatus(job, { store: vault, keys }, new Date(AUTHOR.at))).status as 'erased';
    const { log, run } = given([decision], new InMemoryRoutingLog(), contentOf);
    await appendRecord(log, decision);
    await appendRecord(log, erased);

    const dry = await run({ dryRun: true });
    const real = await run();
    expect(real).toMatchObject({ appended: 1, contentWithheld: 1 });
    expect(dry.targets).toEqual(real.targets.map((t) => ({ ...t, action: 'would_append' })));
    expect(real.targets[0]).toMatchObject({
      redriveVersion: 3,
      dispatchId: null,
      announcementId: null,
      contentWithheld: 'content_erased',
    });
    const [, , record] = await log.readStream(decision.metadata.stream);
    expect(record).toMatchObject({
      type: 'ProjectionRedriveRequested',
      data: { contentWithheld: 'content_erased' },
    });

    const { ports, queues, bus } = fakePorts();
    const [outcome] = await projectWithContent([record as ProjectionRedriveRequestedRecord], ports);
    expect(outcome?.ok).toBe(true);
    expect(queues.sent).toHaveLength(0);
    expect(bus.published).toHaveLength(0);
    expect(
      renderHistory(
        {
          jobId: decision.metadata.jobId,
          stream: decision.metadata.stream,
          job: null,
          records: [record as RoutingLogRecord],
          projection: null,
          content: { status: 'hidden' },
        },
        'Jobs-test',
      ),
    ).toContain('sent nothing: content erased');
  });

  it('given a sealed routed job whose content is retained, when its re-drive is projected, then the provider gets the whole job under the original dispatch id', async () => {
    const { ports, queues, vault } = fakePorts();
    const decision = await sealed(vault, aRoutedRecord({ prompt: 'corgi surfing' }));
    await projectWithContent([decision], ports);
    // The first projection retained the content; its completion marks and transit key are gone since.
    queues.sent.length = 0;
    vault.keys.clear();
    const [step] = planRedriveSteps(jobStateOf([decision]), new Map(), AUTHOR, JUDGEABLE);
    const fresh = { ...ports, markers: new InMemoryEffectMarkers(), jobs: new InMemoryJobs() };
    const [outcome] = await projectWithContent([step?.record as ProjectionRedriveRequestedRecord], fresh);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent[0]?.message.body).toContain('corgi surfing');
    expect(queues.sent[0]?.message.dispatchId).toBe(`${decision.metadata.jobId}:v1`);
  });
});

describe('a re-drive never pays for a done job or sends a superseded dispatch', () => {
  it('given a decision superseded by a replay, both incomplete, when re-driven, then the decision is skipped as superseded and the replay re-driven', () => {
    const decision = aRoutedRecord();
    const replay = aReplayOf(decision);
    const steps = planRedriveSteps(jobStateOf([decision, replay]), new Map(), AUTHOR, JUDGEABLE);
    expect(steps.map((s) => [s.target.metadata.version, s.action, s.skipped])).toEqual([
      [1, 'skipped', 'superseded'],
      [2, 'append', undefined],
    ]);
  });

  it('given an incomplete decision whose job completed at the provider, when re-driven, then it is skipped as completed unless the operator pays again', () => {
    const decision = aRoutedRecord();
    const done = decideDispatchOutcome(jobStateOf([decision]), {
      attemptKey: 'attempt-1',
      at: '2026-11-25T10:05:00.000Z',
      jobId: decision.metadata.jobId,
      dispatchId: `${decision.metadata.jobId}:v1`,
      provider: decision.data.provider,
      model: decision.data.model,
      outcome: 'succeeded',
      errorClass: null,
    }) as RoutingLogRecord;
    const stream = [decision, done];
    expect(planRedriveSteps(jobStateOf(stream), new Map(), AUTHOR, JUDGEABLE)).toMatchObject([
      { action: 'skipped', skipped: 'completed', record: null },
    ]);
    expect(planRedriveSteps(jobStateOf(stream), new Map(), AUTHOR, JUDGEABLE, undefined, true)).toMatchObject(
      [{ action: 'append', record: { data: { redriveOf: 1 }, metadata: { version: 3 } } }],
    );
  });

  it('given a done job whose decision only owes its announcement, when re-driven, then the announcement is finished (no provider is paid)', () => {
    const decision = aRoutedRecord();
    const plan = planEffects(decision);
    const marker = { ...complete(plan.effectId), announced: false };
    const done = {
      type: 'DispatchOutcomeRecorded',
      data: { outcome: 'succeeded', dispatchId: `${decision.metadata.jobId}:v1` },
      metadata: { ...decision.metadata, version: 2 },
    };
    expect(
      planRedriveSteps(
        jobStateOf([decision, done as unknown as RoutingLogRecord]),
        new Map([[plan.effectId, marker]]),
        AUTHOR,
        JUDGEABLE,
      ),
    ).toMatchObject([{ action: 'append', missing: ['announce'] }]);
  });
});
