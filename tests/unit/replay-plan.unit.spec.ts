import { describe, expect, it } from 'vitest';
import { auditWindow } from '../../src/audit/audit-window.ts';
import { isReplayed, planReplayStep, type ReplayRequest, replayIdOf } from '../../src/audit/replay-plan.ts';
import { replayJob } from '../../src/cli/commands/replay.ts';
import { InMemoryRoutingLog } from '../../src/log/routing-log.ts';
import { intakeRejectionRecord } from '../../src/log/routing-records.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const now = new Date('2026-11-25T12:00:00.000Z');
const request = (overrides: Partial<ReplayRequest> = {}): ReplayRequest => ({
  provider: 'fal',
  window: auditWindow('2026-11-25T09:00:00Z', '2026-11-25T11:00:00Z', now),
  outcome: 'routed',
  ...overrides,
});
const author = {
  requestedBy: 'ops@example.com',
  why: 'fal outage 09:00-11:00',
  at: '2026-11-25T12:00:00.000Z',
};

describe('replay id', () => {
  it('given the same provider, window and outcome, when hashed twice, then the replayId is the same', () => {
    expect(replayIdOf(request())).toBe(replayIdOf(request()));
    expect(replayIdOf(request())).toMatch(/^replay-[0-9a-f]{24}$/);
  });

  it('given a different provider, window or outcome filter, when hashed, then the replayId differs', () => {
    const ids = new Set([
      replayIdOf(request()),
      replayIdOf(request({ provider: 'replicate' })),
      replayIdOf(request({ outcome: 'rejected' })),
      replayIdOf(request({ window: auditWindow('2026-11-25T09:00:00Z', '2026-11-25T11:00:01Z', now) })),
    ]);
    expect(ids.size).toBe(4);
  });
});

describe('which decisions a replay re-drives', () => {
  it('given decisions routed to fal and to replicate, when a fal replay filters them, then only fal ones are kept', () => {
    expect(isReplayed(aDecisionRecord({ provider: 'fal' }), request())).toBe(true);
    expect(isReplayed(aDecisionRecord({ provider: 'replicate' }), request())).toBe(false);
  });

  it('given a rejection, when a routed replay filters it, then it is not replayed, but a rejected replay takes it', () => {
    const rejected = aDecisionRecord({ resolution: '4k' });
    const explicit = { ...rejected, requestedProvider: 'fal' } as typeof rejected;
    expect(isReplayed(explicit, request())).toBe(false);
    expect(isReplayed(explicit, request({ outcome: 'rejected' }))).toBe(true);
  });

  it('given an intake rejection without a jobId, when filtered, then it is never replayed', () => {
    const record = intakeRejectionRecord(
      { eventId: 'e1', submittedAt: null, recordedAt: '2026-11-25T10:00:00.000Z', detail: {} },
      { reason: 'invalid_request', fieldErrors: [], jobId: undefined },
    );
    expect(isReplayed(record, request({ provider: 'none', outcome: 'rejected' }))).toBe(false);
  });
});

describe('replay step for one job', () => {
  it('given a stream with only its decision, when planned, then a replay record is appended at version 2 with a copy of the decision', () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    const step = planReplayStep([decision], 'replay-1', author);
    expect(step).toMatchObject({
      action: 'append',
      record: {
        type: 'ProjectionReplayRequested',
        stream: decision.stream,
        version: 2,
        jobId: decision.jobId,
        replayId: 'replay-1',
        replayOf: 1,
        requestedBy: 'ops@example.com',
        why: 'fal outage 09:00-11:00',
        recordedAt: author.at,
        decision,
      },
    });
  });

  it('given a stream that already holds this replay, when planned, then it is skipped', () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    const first = planReplayStep([decision], 'replay-1', author);
    if (first.action !== 'append') throw new Error('expected an append');
    expect(planReplayStep([decision, first.record], 'replay-1', author)).toEqual({
      action: 'already_replayed',
      version: 2,
    });
  });

  it('given a stream with another replay, when a new replay is planned, then it goes to the next version', () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    const first = planReplayStep([decision], 'replay-1', author);
    if (first.action !== 'append') throw new Error('expected an append');
    expect(planReplayStep([decision, first.record], 'replay-2', author)).toMatchObject({
      action: 'append',
      record: { version: 3, replayOf: 1 },
    });
  });

  it('given an empty stream, when planned, then there is no decision to replay', () => {
    expect(planReplayStep([], 'replay-1', author)).toEqual({ action: 'no_decision' });
  });
});

describe('replaying one job against a log', () => {
  it('given a decision, when replayed twice, then one record is appended and the second run finds it', async () => {
    const log = new InMemoryRoutingLog();
    const decision = aDecisionRecord({ provider: 'fal' });
    await log.append(decision);
    expect(await replayJob(log, decision, 'replay-1', author, false)).toMatchObject({
      action: 'appended',
      version: 2,
    });
    expect(await replayJob(log, decision, 'replay-1', author, false)).toMatchObject({
      action: 'already_replayed',
    });
    expect(await log.readStream(decision.stream)).toHaveLength(2);
  });

  it('given a dry run, when replayed, then nothing is appended', async () => {
    const log = new InMemoryRoutingLog();
    const decision = aDecisionRecord({ provider: 'fal' });
    await log.append(decision);
    expect(await replayJob(log, decision, 'replay-1', author, true)).toMatchObject({
      action: 'would_append',
    });
    expect(await log.readStream(decision.stream)).toHaveLength(1);
  });

  it('given two identical replays racing, when both run, then exactly one record is appended', async () => {
    const log = new InMemoryRoutingLog();
    const decision = aDecisionRecord({ provider: 'fal' });
    await log.append(decision);
    const results = await Promise.all([
      replayJob(log, decision, 'replay-1', author, false),
      replayJob(log, decision, 'replay-1', author, false),
    ]);
    expect(results.map((r) => r.action).sort()).toEqual(['already_replayed', 'appended']);
    expect(await log.readStream(decision.stream)).toHaveLength(2);
  });

  it('given a log where every append loses the race, when replayed, then the job is reported contended', async () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    const log = {
      readStream: async () => [decision],
      append: async () => ({ status: 'exists' as const, existing: decision }),
    };
    expect(await replayJob(log, decision, 'replay-1', author, false)).toEqual({
      jobId: decision.jobId,
      action: 'contended',
      version: null,
    });
  });

  it('given a stream without its decision, when replayed, then it is reported, not appended', async () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    expect(await replayJob(new InMemoryRoutingLog(), decision, 'replay-1', author, false)).toMatchObject({
      action: 'no_decision',
    });
  });
});
