import type { ReplayPolicy } from '../../src/commands/replay-plan.ts';
/**
 * The ReplayProjections command on the in-memory log: identity per (job, incident), whatever the
 * window and the clock; interruption; dry run ids; races and failures of single jobs.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ATTEMPTS } from '../../src/commands/handle-command.ts';
import { replayIdOf } from '../../src/commands/replay-plan.ts';
import {
  type ReplayProgress,
  type ReplayProjections,
  replayJob,
  replayProjections,
} from '../../src/commands/replay-projections.ts';
import { VersionConflictError } from '../../src/errors.ts';
import type { DecisionRecord, ProjectableRecord } from '../../src/log/routing-records.ts';
import { InMemoryAuditIndex } from '../../src/memory/in-memory-audit-index.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { AuditWindow } from '../../src/ports/audit-index.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { auditWindow } from '../../src/queries/audit-window.ts';
import { appendRecord } from '../support/log-appends.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

/** Decisions of fal and replicate, one every 10 minutes from 09:00 on 2026-11-25. */
async function aLogWithDecisions(count: number) {
  const log = new InMemoryRoutingLog();
  const decisions: DecisionRecord[] = [];
  for (let i = 0; i < count; i++) {
    const record = aDecisionRecord(
      { provider: i % 3 === 2 ? 'replicate' : 'fal' },
      new Date(Date.parse('2026-11-25T09:00:00.000Z') + i * 600_000).toISOString(),
    );
    decisions.push(record);
    await appendRecord(log, record);
  }
  const index = new InMemoryAuditIndex();
  for (const d of decisions) index.index(d);
  return { log, decisions, index };
}

const command = (
  window: AuditWindow,
  overrides: Partial<ReplayProjections['data']> = {},
): ReplayProjections => ({
  type: 'ReplayProjections',
  data: {
    incident: 'INC-2291',
    providers: ['fal'],
    outcome: 'routed',
    window,
    why: 'fal dropped messages',
    requestedBy: 'ops@example.com',
    dryRun: false,
    ...overrides,
  },
});

const at = (iso: string) => () => new Date(iso);
const replayRecords = async (log: RoutingLog, decisions: readonly DecisionRecord[]) =>
  (await Promise.all(decisions.map((d) => log.readStream(d.metadata.stream))))
    .flat()
    .filter((record) => record.type === 'ProjectionReplayRequested');

const routedPolicy: ReplayPolicy = {
  selection: { providers: ['fal', 'replicate'], outcome: 'routed' },
  payAgainFor: new Set(),
};

describe('replaying an incident', () => {
  it('given a relative window, when the replay runs twice an hour apart, then each job is appended once', async () => {
    const { log, decisions, index } = await aLogWithDecisions(6);
    const firstNow = '2026-11-25T10:30:00.000Z';
    const first = await replayProjections(command(auditWindow('2h', 'now', new Date(firstNow))), {
      log,
      decisions: index,
      now: at(firstNow),
    });
    expect(first).toMatchObject({ replayId: replayIdOf('INC-2291'), matched: 4, appended: 4 });

    const laterNow = '2026-11-25T11:30:00.000Z';
    const second = await replayProjections(command(auditWindow('3h', 'now', new Date(laterNow))), {
      log,
      decisions: index,
      now: at(laterNow),
    });
    expect(second).toMatchObject({ replayId: first.replayId, matched: 4, appended: 0, alreadyReplayed: 4 });
    expect(second.jobs.map((job) => job.dispatchId)).toEqual(first.jobs.map((job) => job.dispatchId));
    expect(await replayRecords(log, decisions)).toHaveLength(4);
  });

  it('given an absolute window, an open-ended one and a relative one, when the same incident runs with each, then no job is appended twice', async () => {
    const { log, decisions, index } = await aLogWithDecisions(6);
    const now = new Date('2026-11-25T12:00:00.000Z');
    const windows = [
      auditWindow('2026-11-25T09:00:00Z', '2026-11-25T09:30:00Z', now),
      auditWindow('2026-11-25T09:00:00Z', 'now', now),
      auditWindow('1d', 'now', now),
    ];
    const appended = [];
    for (const window of windows) {
      appended.push(
        (await replayProjections(command(window), { log, decisions: index, now: () => now })).appended,
      );
    }
    expect(appended).toEqual([2, 2, 0]);
    expect(await replayRecords(log, decisions)).toHaveLength(4);
  });

  it('given a replay interrupted after some jobs, when re-run, then only the rest is appended, and failed jobs never stopped their neighbours', async () => {
    const { log, decisions, index } = await aLogWithDecisions(6);
    const now = () => new Date('2026-11-27T00:00:00.000Z');
    const window = auditWindow('2026-11-25', '2026-11-26', now());
    // The first run loses its connection after two appends: every later append throws.
    let appends = 0;
    const dying: RoutingLog = {
      readStream: (stream) => log.readStream(stream),
      appendToStream: async (stream, records, options) => {
        if (appends++ >= 2) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        return log.appendToStream(stream, records, options);
      },
    };
    const interrupted = await replayProjections(command(window), { log: dying, decisions: index, now });
    expect(interrupted).toMatchObject({ matched: 4, appended: 2, failed: 2 });
    expect(interrupted.jobs.filter((job) => job.action === 'failed')).toEqual([
      expect.objectContaining({ error: 'TimeoutError', version: null, dispatchId: null }),
      expect.objectContaining({ error: 'TimeoutError' }),
    ]);

    const rerun = await replayProjections(command(window), { log, decisions: index, now });
    expect(rerun).toMatchObject({ matched: 4, appended: 2, alreadyReplayed: 2, failed: 0 });
    expect(await replayRecords(log, decisions)).toHaveLength(4);
  });

  it('given a dry run, when the real run follows, then it reports the same versions and ids the real run appends', async () => {
    const { log, decisions, index } = await aLogWithDecisions(6);
    const now = () => new Date('2026-11-25T12:00:00.000Z');
    const window = auditWindow('1d', 'now', now());
    // A job replayed before under another incident: its next version is 3, not 2.
    await replayJob(
      { log },
      decisions[0] as DecisionRecord,
      { incident: 'INC-1', requestedBy: 'a', why: 'b', at: 'c' },
      false,
      routedPolicy,
    );

    const dryRun = await replayProjections(command(window, { dryRun: true }), { log, decisions: index, now });
    expect(await replayRecords(log, decisions)).toHaveLength(1);
    const real = await replayProjections(command(window), { log, decisions: index, now });

    const ids = (summary: typeof real) =>
      summary.jobs.map(({ jobId, version, dispatchId, announcementId }) => ({
        jobId,
        version,
        dispatchId,
        announcementId,
      }));
    expect(ids(dryRun)).toEqual(ids(real));
    expect(dryRun).toMatchObject({ replayId: real.replayId, wouldAppend: 4, appended: 0 });
    expect(real.jobs[0]).toEqual({
      jobId: decisions[0]?.metadata.jobId,
      action: 'appended',
      version: 3,
      dispatchId: `${decisions[0]?.metadata.jobId}:v3`,
      announcementId: `${decisions[0]?.metadata.stream}:v3:announce`,
    });
    expect(real.jobs[1]?.dispatchId).toBe(`${decisions[1]?.metadata.jobId}:v2`);
    // The ids are the projector's: what it plans for the appended records.
    for (const job of real.jobs) {
      const record = (await log.readStream(`job#${job.jobId}`)).find(
        (r) => r.metadata.version === job.version,
      );
      const plan = planEffects(record as ProjectableRecord);
      expect([job.dispatchId, job.announcementId]).toEqual([
        plan.dispatch?.dispatchId,
        plan.announcement?.detail.announcementId,
      ]);
    }
  });

  it('given progress is followed, when replayed, then it starts at zero and ends at the total', async () => {
    const { log, index } = await aLogWithDecisions(3);
    const seen: ReplayProgress[] = [];
    const now = () => new Date('2026-11-25T12:00:00.000Z');
    await replayProjections(command(auditWindow('1d', 'now', now())), {
      log,
      decisions: index,
      now,
      onProgress: (progress) => seen.push(progress),
    });
    expect(seen[0]).toEqual({ done: 0, total: 2, appended: 0, alreadyReplayed: 0 });
    expect(seen.at(-1)).toEqual({ done: 2, total: 2, appended: 2, alreadyReplayed: 0 });
  });
});

describe('replaying one job against a log', () => {
  const author = { incident: 'INC-2291', requestedBy: 'ops', why: 'outage', at: '2026-11-25T12:00:00.000Z' };

  it('given two replays of the same incident racing, when both run, then exactly one record is appended', async () => {
    const log = new InMemoryRoutingLog();
    const decision = aDecisionRecord({ provider: 'fal' });
    await appendRecord(log, decision);
    const results = await Promise.all([
      replayJob({ log }, decision, author, false, routedPolicy),
      replayJob({ log }, decision, author, false, routedPolicy),
    ]);
    expect(results.map((result) => result?.action).sort()).toEqual(['already_replayed', 'appended']);
    expect(results.map((result) => result?.dispatchId)).toEqual([
      `${decision.metadata.jobId}:v2`,
      `${decision.metadata.jobId}:v2`,
    ]);
    expect(await log.readStream(decision.metadata.stream)).toHaveLength(2);
  });

  it('given a log where every append loses the race, when replayed, then the job is reported contended', async () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    let appends = 0;
    const log: RoutingLog = {
      readStream: async () => [decision],
      appendToStream: async (stream, records) => {
        appends++;
        throw new VersionConflictError(stream, records[0]?.metadata.version ?? 1, { existing: decision });
      },
    };
    expect(
      await replayJob({ log, retry: { sleep: async () => {} } }, decision, author, false, routedPolicy),
    ).toEqual({
      jobId: decision.metadata.jobId,
      action: 'contended',
      version: null,
      dispatchId: null,
      announcementId: null,
    });
    expect(appends).toBe(DEFAULT_MAX_ATTEMPTS);
  });

  it('given a stream without its decision, when replayed, then it is reported, not appended', async () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    expect(
      await replayJob({ log: new InMemoryRoutingLog() }, decision, author, false, routedPolicy),
    ).toMatchObject({
      action: 'no_decision',
    });
  });

  it('given a rejection, when replayed, then it has an announcement id and no dispatch id', async () => {
    const log = new InMemoryRoutingLog();
    const decision = aDecisionRecord({ resolution: '4k' });
    await appendRecord(log, decision);
    expect(
      await replayJob({ log }, decision, author, true, {
        ...routedPolicy,
        selection: { providers: ['auto'], outcome: 'rejected' },
      }),
    ).toEqual({
      jobId: decision.metadata.jobId,
      action: 'would_append',
      version: 2,
      dispatchId: null,
      announcementId: `${decision.metadata.stream}:v2:announce`,
    });
  });
});
