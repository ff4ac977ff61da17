import { describe, expect, it } from 'vitest';
import { projectRecords } from '../../src/projections/project-records.ts';
import { fakePorts, QUEUE_URLS } from '../support/projector-fakes.ts';
import {
  aNoRouteRecord,
  anInvalidRequestRecord,
  aReplayOf,
  aRoutedRecord,
  withData,
} from '../support/records.ts';

const throttled = { code: 'ThrottlingException', message: 'slow down', retryable: true };

describe('projectRecords', () => {
  it('given a fresh batch, then each record gets its effects once, the jobs sealed by their Jobs write and only the jobless record by a marker', async () => {
    const { ports, queues, bus, jobs, markers } = fakePorts();
    const fal = aRoutedRecord({ provider: 'fal' });
    const replicate = aRoutedRecord({ provider: 'replicate' });
    const rejected = aNoRouteRecord();
    const invalid = anInvalidRequestRecord({ withJobId: false });

    const outcomes = await projectRecords([fal, replicate, rejected, invalid], ports);

    expect(outcomes.every((o) => o.ok && o.markerWritten)).toBe(true);
    expect(queues.sent.map((s) => [s.queueUrl, s.message.dispatchId])).toEqual([
      [QUEUE_URLS.fal, `${fal.metadata.jobId}:v1`],
      [QUEUE_URLS.replicate, `${replicate.metadata.jobId}:v1`],
    ]);
    expect(bus.published.map((e) => e.detailType)).toEqual([
      'video.job.routed',
      'video.job.routed',
      'video.job.rejected',
      'video.job.rejected',
    ]);
    expect(jobs.items.get(rejected.metadata.jobId as string)).toMatchObject({ status: 'REJECTED' });
    expect(jobs.items.size).toBe(3);
    expect(jobs.items.get(fal.metadata.jobId)).toMatchObject({
      routingVersion: 1,
      routingDone: new Set([1]),
    });
    expect([...markers.markers.keys()]).toEqual([`${invalid.metadata.stream}:v1`]);
    expect(markers.markers.get(`${invalid.metadata.stream}:v1`)).toEqual({
      effectId: `${invalid.metadata.stream}:v1`,
      dispatched: false,
      dispatchedAt: null,
      announced: true,
      announcedAt: '2026-11-25T10:00:05.000Z',
      statusProjected: false,
      statusProjectedAt: null,
    });
    expect(outcomes[3]?.effects).toEqual({
      dispatch: 'not_applicable',
      announce: 'done',
      status: 'not_applicable',
    });
  });

  it('given the batch is redelivered, then every effect is skipped by its marker and no call is made', async () => {
    const { ports, queues, bus, jobs } = fakePorts();
    const records = [aRoutedRecord(), aNoRouteRecord()];
    await projectRecords(records, ports);
    const [callsQ, callsB, callsJ] = [queues.calls, bus.calls, jobs.calls];

    const outcomes = await projectRecords(records, ports);

    expect([queues.calls, bus.calls, jobs.calls]).toEqual([callsQ, callsB, callsJ]);
    expect(outcomes[0]?.effects).toEqual({ dispatch: 'skipped', announce: 'skipped', status: 'skipped' });
    expect(outcomes[1]?.effects).toEqual({
      dispatch: 'not_applicable',
      announce: 'skipped',
      status: 'skipped',
    });
  });

  it('given the markers cannot be read, then no effect happens and every record fails', async () => {
    const { ports, queues, markers } = fakePorts();
    markers.failRead = true;
    const outcomes = await projectRecords([aRoutedRecord(), aNoRouteRecord()], ports);
    expect(queues.calls).toBe(0);
    expect(outcomes.map((o) => [o.ok, o.failure?.effect])).toEqual([
      [false, 'markers'],
      [false, 'markers'],
    ]);
  });

  it('given one dispatch refused for good, then only that record fails, before its announcement, and leaves no marker', async () => {
    const { ports, queues, bus, markers } = fakePorts();
    const bad = aRoutedRecord();
    const good = aRoutedRecord();
    queues.refuse = (m) =>
      m.jobId === bad.metadata.jobId
        ? { code: 'InvalidMessageContents', message: 'no', retryable: false }
        : undefined;

    const outcomes = await projectRecords([bad, good], ports);

    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
    expect(outcomes[0]).toMatchObject({
      failure: { effect: 'dispatch', code: 'InvalidMessageContents' },
      effects: { dispatch: 'failed', announce: 'not_attempted', status: 'not_attempted' },
    });
    expect(bus.published.map((e) => JSON.parse(e.detail).jobId)).toEqual([good.metadata.jobId]);
    expect(markers.markers.has(`${bad.metadata.stream}:v1`)).toBe(false);
  });

  it('given a provider without a configured queue, then that record fails as a configuration error', async () => {
    const { ports, queues } = fakePorts();
    const record = withData(aRoutedRecord(), { provider: 'veo' });
    const outcomes = await projectRecords([record], { ...ports, queueUrls: { fal: QUEUE_URLS.fal } });
    expect(queues.calls).toBe(0);
    expect(outcomes[0]?.failure).toMatchObject({ effect: 'dispatch', code: 'UnknownProviderQueue' });
  });

  it('given an announcement that keeps failing, then its record fails but its marker records the dispatch', async () => {
    const { ports, queues, bus, markers } = fakePorts();
    const record = aRoutedRecord();
    bus.refuse = () => throttled;

    const first = await projectRecords([record], ports);
    expect(bus.calls).toBe(3);
    expect(first[0]).toMatchObject({ ok: false, failure: { effect: 'announce' }, markerWritten: true });
    expect(markers.markers.get(`${record.metadata.stream}:v1`)).toMatchObject({
      dispatched: true,
      announced: false,
    });

    bus.refuse = () => undefined;
    const second = await projectRecords([record], ports);
    expect(second[0]).toMatchObject({
      ok: true,
      effects: { dispatch: 'skipped', announce: 'done', status: 'done' },
    });
    expect(queues.sent).toHaveLength(1);

    const third = await projectRecords([record], ports);
    expect(third[0]?.effects).toEqual({ dispatch: 'skipped', announce: 'skipped', status: 'skipped' });
    expect([queues.sent.length, bus.published.length]).toEqual([1, 1]);
  });

  it('given the Jobs update throws, then the record fails and its redelivery only re-runs the update', async () => {
    const { ports, queues, bus, jobs } = fakePorts();
    const record = aRoutedRecord();
    jobs.fail = () => new Error('throttled');
    expect((await projectRecords([record], ports))[0]).toMatchObject({
      ok: false,
      failure: { effect: 'status' },
    });
    jobs.fail = () => undefined;
    const again = await projectRecords([record], ports);
    expect(again[0]?.effects).toEqual({ dispatch: 'skipped', announce: 'skipped', status: 'done' });
    expect([queues.sent.length, bus.published.length]).toEqual([1, 1]);
  });

  it('given a newer routing version already projected, then an older record converges as superseded', async () => {
    const { ports, jobs } = fakePorts();
    const decision = aRoutedRecord();
    await projectRecords([aReplayOf(decision, 2)], ports);
    const outcomes = await projectRecords([decision], ports);
    expect(outcomes[0]).toMatchObject({ ok: true, statusOutcome: 'superseded' });
    expect(jobs.items.get(decision.metadata.jobId)?.routingVersion).toBe(2);
  });

  it('given a replay record, then it dispatches again under the new dispatch id', async () => {
    const { ports, queues } = fakePorts();
    const decision = aRoutedRecord();
    await projectRecords([decision, aReplayOf(decision, 2)], ports);
    expect(queues.sent.map((s) => s.message.dispatchId)).toEqual([
      `${decision.metadata.jobId}:v1`,
      `${decision.metadata.jobId}:v2`,
    ]);
  });

  it('given a decision sealed by its Jobs write and later replayed, when the decision is redelivered, then it is still skipped: the item keeps every completed version', async () => {
    const { ports, queues, bus, markers } = fakePorts();
    const decision = aRoutedRecord();
    await projectRecords([decision], ports);
    await projectRecords([aReplayOf(decision, 2)], ports);

    const outcomes = await projectRecords([decision], ports);

    expect(outcomes[0]?.effects).toEqual({ dispatch: 'skipped', announce: 'skipped', status: 'skipped' });
    expect([queues.sent.length, bus.published.length, markers.markers.size]).toEqual([2, 2, 0]);
  });

  it('given a status superseded by a newer version, then the record is marked in the markers table', async () => {
    const { ports, markers } = fakePorts();
    const decision = aRoutedRecord();
    await projectRecords([aReplayOf(decision, 2)], ports);

    await projectRecords([decision], ports);

    expect(markers.markers.get(`${decision.metadata.stream}:v1`)).toMatchObject({
      dispatched: true,
      announced: true,
      statusProjected: true,
    });
  });

  it('given the marker write fails, then the records still succeed and say the marker is missing', async () => {
    const { ports, markers } = fakePorts();
    markers.failWrite = true;
    const outcomes = await projectRecords(
      [anInvalidRequestRecord({ withJobId: false }), aRoutedRecord()],
      ports,
    );
    expect(outcomes[0]).toMatchObject({ ok: true, markerWritten: false });
    expect(outcomes[1]).toMatchObject({ ok: true, markerWritten: true });
  });

  it('given a record whose job JSON is corrupt, then only that record fails at planning', async () => {
    const { ports } = fakePorts();
    const corrupt = withData(aRoutedRecord(), { job: '{not json' });
    const outcomes = await projectRecords([corrupt, aRoutedRecord()], ports);
    expect(outcomes.map((o) => [o.ok, o.failure?.effect ?? null, o.effectId === null])).toEqual([
      [false, 'plan', true],
      [true, null, false],
    ]);
  });

  it('given an empty batch, then nothing is called', async () => {
    const { ports, queues } = fakePorts();
    expect(await projectRecords([], ports)).toEqual([]);
    expect(queues.calls).toBe(0);
  });
});
