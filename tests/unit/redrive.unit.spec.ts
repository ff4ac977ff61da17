/** Re-drive of abandoned projections: the pure plan, the command, and the projector's handling. */
import { describe, expect, it } from 'vitest';
import { missingEffects, planRedriveSteps, redriveIdOf } from '../../src/audit/redrive-plan.ts';
import { renderHistory } from '../../src/cli/commands/history.ts';
import { renderRedriveSummary } from '../../src/cli/commands/redrive.ts';
import { redriveProjections } from '../../src/commands/redrive-projections.ts';
import { InMemoryRoutingLog, type RoutingLog } from '../../src/log/routing-log.ts';
import type { DecisionRecord, ProjectionRedriveRequestedRecord } from '../../src/log/routing-records.ts';
import { type EffectMarker, InMemoryEffectMarkers } from '../../src/projections/effect-markers.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { projectRecords } from '../../src/projections/project-records.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { aNoRouteRecord, aReplayOf, aRoutedRecord, RECORDED_AT } from '../support/records.ts';

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

function given(decisions: DecisionRecord[], log: RoutingLog = new InMemoryRoutingLog()) {
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
      },
    );
  return { log, markers, run };
}

describe('redrive plan', () => {
  it('given a routed decision without a marker, then all three effects are missing and one re-drive is planned at the next version with the original ids', () => {
    const decision = aRoutedRecord();
    const [step] = planRedriveSteps([decision], new Map(), AUTHOR, JUDGEABLE);
    expect(step).toMatchObject({ action: 'append', missing: ['dispatch', 'announce', 'status'] });
    expect(step?.record).toMatchObject({
      type: 'ProjectionRedriveRequested',
      version: 2,
      redriveOf: 1,
      redriveId: redriveIdOf('INC-1'),
      incident: 'INC-1',
    });
    const plan = planEffects(step?.record as ProjectionRedriveRequestedRecord);
    expect(plan).toEqual({ ...planEffects(decision), recordType: 'ProjectionRedriveRequested' });
  });

  it('given a rejection, then a dispatch is never owed', () => {
    const plan = planEffects(aNoRouteRecord());
    expect(missingEffects(plan, { ...complete(plan.effectId), dispatched: false })).toEqual([]);
  });

  it('given a complete marker, a re-drive already requested by this incident, and a too-old target, then nothing is appended for them', () => {
    const decision = aRoutedRecord();
    const replay = aReplayOf(decision);
    const old = { ...aRoutedRecord(), recordedAt: '2026-11-01T00:00:00.000Z' };
    const [first] = planRedriveSteps([decision, replay], new Map(), AUTHOR, JUDGEABLE);
    const stream = [decision, replay, first?.record as ProjectionRedriveRequestedRecord];
    const markers = new Map([[planEffects(replay).effectId, complete(planEffects(replay).effectId)]]);
    expect(planRedriveSteps(stream, markers, AUTHOR, JUDGEABLE).map((s) => s.action)).toEqual([
      'already_requested',
      'complete',
    ]);
    expect(planRedriveSteps([old], new Map(), AUTHOR, JUDGEABLE).map((s) => s.action)).toEqual(['too_old']);
    expect(
      planRedriveSteps([decision], new Map(), { ...AUTHOR, incident: 'INC-2' }, JUDGEABLE)[0]?.record
        ?.redriveId,
    ).not.toBe(redriveIdOf('INC-1'));
  });
});

describe('history of a re-driven job', () => {
  it('given a re-drive record, then history shows which version it re-drives, the incident and why', () => {
    const decision = aRoutedRecord();
    const [step] = planRedriveSteps([decision], new Map(), AUTHOR, JUDGEABLE);
    const text = renderHistory(
      {
        jobId: decision.jobId,
        stream: decision.stream,
        records: [decision, step?.record as ProjectionRedriveRequestedRecord],
        projection: null,
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
    await log.append(incomplete);
    await log.append(done);
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
    expect(await log.readStream(incomplete.stream)).toHaveLength(2);
    expect(renderRedriveSummary(real)).toContain('re-driven');
    expect(renderRedriveSummary(dry)).toContain('would re-drive');
  });

  it('given a log that always loses the append race, then the job is reported contended; given one that throws, then failed by error name only', async () => {
    const decision = aRoutedRecord();
    const racing: RoutingLog = {
      readStream: async () => [decision],
      append: async () => ({ status: 'exists', existing: decision }),
    };
    expect((await given([decision], racing).run()).targets).toEqual([
      expect.objectContaining({ action: 'contended' }),
    ]);
    const broken: RoutingLog = {
      readStream: async () => {
        throw Object.assign(new Error('secret prompt'), { name: 'ThrottlingException' });
      },
      append: async () => ({ status: 'appended' }),
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
    await log.append(decision);
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
    const [step] = planRedriveSteps([decision], new Map(), AUTHOR, JUDGEABLE);
    const [outcome] = await projectRecords([step?.record as ProjectionRedriveRequestedRecord], ports);
    expect(outcome).toMatchObject({
      ok: true,
      effects: { dispatch: 'skipped', announce: 'done', status: 'done' },
    });
    expect(queues.sent).toHaveLength(0);
    expect(bus.published.map((entry) => JSON.parse(entry.detail).announcementId)).toEqual([
      `${decision.stream}:v1:announce`,
    ]);
  });

  it('given a decision and its re-drive in one batch, then the effects happen once and both records succeed', async () => {
    const { ports, queues, bus } = fakePorts();
    const decision = aRoutedRecord();
    const [step] = planRedriveSteps([decision], new Map(), AUTHOR, JUDGEABLE);
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
