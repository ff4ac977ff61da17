import { describe, expect, it } from 'vitest';
import { decideDispatchOutcome } from '../../src/commands/record-dispatch-outcome.ts';
import {
  InvalidIncidentKeyError,
  isReplayed,
  parseIncidentKey,
  planReplayStep,
  type ReplayPolicy,
  type ReplaySelection,
  replayIdOf,
} from '../../src/commands/replay-plan.ts';
import { reviseRouting } from '../../src/commands/revise-routing.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import {
  intakeRejectionRecord,
  RECORD_SCHEMA_VERSION,
  type RoutingLogRecord,
} from '../../src/log/routing-records.ts';
import { aFailure, aRoutedJobInLog } from '../support/revisions.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const selection = (overrides: Partial<ReplaySelection> = {}): ReplaySelection => ({
  providers: ['fal'],
  outcome: 'routed',
  ...overrides,
});
const policy = (overrides: Partial<ReplaySelection> = {}, payAgainFor: string[] = []): ReplayPolicy => ({
  selection: selection(overrides),
  payAgainFor: new Set(payAgainFor),
});
const author = {
  incident: 'INC-2291',
  requestedBy: 'ops@example.com',
  why: 'fal outage 09:00-11:00',
  at: '2026-11-25T12:00:00.000Z',
};

describe('replay identity', () => {
  it('given the same incident key, when hashed twice, then the replayId is the same', () => {
    expect(replayIdOf('INC-2291')).toBe(replayIdOf('INC-2291'));
    expect(replayIdOf('INC-2291')).toMatch(/^replay-[0-9a-f]{24}$/);
  });

  it('given different incident keys, when hashed, then the replayIds differ (case counts)', () => {
    expect(new Set([replayIdOf('INC-2291'), replayIdOf('INC-2292'), replayIdOf('inc-2291')]).size).toBe(3);
  });

  it.each(['INC-2291', 'ops/2026-11-25#fal', 'PD:Q1W2E3', '  INC-7  '])(
    'given the incident key %j, when parsed, then it is kept (trimmed)',
    (key) => {
      expect(parseIncidentKey(key)).toBe(key.trim());
    },
  );

  it.each(['', '   ', 'fal outage at 9', '-INC', 'INC\n1', 'x'.repeat(129)])(
    'given %j, when parsed as an incident key, then it is refused with a hint to use --why',
    (key) => {
      expect(() => parseIncidentKey(key)).toThrow(InvalidIncidentKeyError);
      expect(() => parseIncidentKey(key)).toThrow(/--why/);
    },
  );
});

describe('which decisions a replay re-drives', () => {
  it('given decisions routed to fal and to replicate, when a fal replay filters them, then only fal ones are kept', () => {
    expect(isReplayed(aDecisionRecord({ provider: 'fal' }), selection())).toBe(true);
    expect(isReplayed(aDecisionRecord({ provider: 'replicate' }), selection())).toBe(false);
    expect(
      isReplayed(aDecisionRecord({ provider: 'replicate' }), selection({ providers: ['fal', 'replicate'] })),
    ).toBe(true);
  });

  it('given a rejection, when a routed replay filters it, then it is not replayed, but a rejected replay takes it', () => {
    const rejected = aDecisionRecord({ resolution: '4k' });
    const explicit = { ...rejected, data: { ...rejected.data, requestedProvider: 'fal' } } as typeof rejected;
    expect(isReplayed(explicit, selection())).toBe(false);
    expect(isReplayed(explicit, selection({ outcome: 'rejected' }))).toBe(true);
  });

  it('given an intake rejection without a jobId, when filtered, then it is never replayed', () => {
    const record = intakeRejectionRecord(
      {
        eventId: 'e1',
        submittedAt: null,
        recordedAt: '2026-11-25T10:00:00.000Z',
        detail: {},
        payloadHash: 'k1:test',
      },
      { reason: 'invalid_request', fieldErrors: [], jobId: undefined },
    );
    expect(isReplayed(record, selection({ providers: ['none'], outcome: 'rejected' }))).toBe(false);
  });
});

describe('replay step for one job', () => {
  it('given a stream with only its decision, when planned, then a replay record of the incident is appended at version 2 with a copy of the decision', () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    expect(planReplayStep(jobStateOf([decision]), author, undefined, policy())).toEqual({
      action: 'append',
      record: {
        type: 'ProjectionReplayRequested',
        data: {
          replayId: replayIdOf('INC-2291'),
          incident: 'INC-2291',
          replayOf: 1,
          requestedBy: 'ops@example.com',
          why: 'fal outage 09:00-11:00',
          decision,
          previousDispatchId: `${decision.metadata.jobId}:v1`,
          revision: 0,
        },
        metadata: {
          stream: decision.metadata.stream,
          version: 2,
          schemaVersion: RECORD_SCHEMA_VERSION,
          jobId: decision.metadata.jobId,
          recordedAt: author.at,
        },
      },
    });
  });

  it('given a stream that already holds this incident, when planned at another time by someone else, then it is skipped', () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    const first = planReplayStep(jobStateOf([decision]), author, undefined, policy());
    if (first.action !== 'append') throw new Error('expected an append');
    const later = { ...author, requestedBy: 'bob', why: 'again', at: '2026-11-26T08:00:00.000Z' };
    expect(planReplayStep(jobStateOf([decision, first.record]), later, undefined, policy())).toEqual({
      action: 'already_replayed',
      record: first.record,
    });
  });

  it('given a stream with another incident, when a new incident is planned, then it goes to the next version', () => {
    const decision = aDecisionRecord({ provider: 'fal' });
    const first = planReplayStep(jobStateOf([decision]), author, undefined, policy());
    if (first.action !== 'append') throw new Error('expected an append');
    expect(
      planReplayStep(
        jobStateOf([decision, first.record]),
        { ...author, incident: 'INC-2300' },
        undefined,
        policy(),
      ),
    ).toMatchObject({
      action: 'append',
      // The job's current dispatch is the first replay's: that is what is sent again.
      record: {
        data: { replayOf: 2, incident: 'INC-2300', previousDispatchId: `${decision.metadata.jobId}:v2` },
        metadata: { version: 3 },
      },
    });
  });

  it('given an empty stream, when planned, then there is no decision to replay', () => {
    expect(planReplayStep(jobStateOf([]), author, undefined, policy())).toEqual({ action: 'no_decision' });
  });
});

describe('a replay selects by the job’s current dispatch and never re-pays a done job', () => {
  async function reroutedToReplicate() {
    const { log, decision, rules } = await aRoutedJobInLog();
    await reviseRouting(aFailure(decision), { log, rules });
    return { log, decision, rules, stream: await log.readStream(decision.metadata.stream) };
  }
  const succeeded = (stream: readonly RoutingLogRecord[], jobId: string, version: number) =>
    decideDispatchOutcome(jobStateOf(stream), {
      attemptKey: 'attempt-x',
      at: '2026-11-25T14:10:00.000Z',
      jobId,
      dispatchId: `${jobId}:v${version}`,
      provider: 'replicate',
      model: 'wan-2.1-i2v',
      outcome: 'succeeded',
      errorClass: null,
    });

  it('given a fal job re-routed to Replicate, when fal is replayed, then it is skipped: its current dispatch is elsewhere', async () => {
    const { stream } = await reroutedToReplicate();
    expect(planReplayStep(jobStateOf(stream), author, undefined, policy())).toMatchObject({
      action: 'skipped',
      reason: 'dispatched_elsewhere',
      current: { version: 2, record: { type: 'RoutingRevised' } },
    });
  });

  it('given a fal job re-routed to Replicate, when Replicate is replayed, then its current dispatch (the revision’s) is sent again', async () => {
    const { stream, decision } = await reroutedToReplicate();
    expect(
      planReplayStep(jobStateOf(stream), author, undefined, policy({ providers: ['replicate'] })),
    ).toMatchObject({
      action: 'append',
      record: {
        data: {
          replayOf: 2,
          revision: 1,
          previousDispatchId: `${decision.metadata.jobId}:v2`,
          decision: { data: { provider: 'replicate', model: 'wan-2.1-i2v' } },
        },
        metadata: { version: 3 },
      },
    });
  });

  it('given the re-routed job completed on Replicate, when Replicate or fal is replayed, then it is skipped as completed', async () => {
    const { stream, decision } = await reroutedToReplicate();
    const done = succeeded(stream, decision.metadata.jobId, 2);
    if ('why' in done) throw new Error(done.why);
    const completed = [...stream, done];
    expect(
      planReplayStep(jobStateOf(completed), author, undefined, policy({ providers: ['replicate'] })),
    ).toMatchObject({
      action: 'skipped',
      reason: 'completed',
    });
    expect(planReplayStep(jobStateOf(completed), author, undefined, policy())).toMatchObject({
      action: 'skipped',
      reason: 'completed',
    });
  });

  it('given a completed job named with --pay-again-for, when replayed, then it is sent again and the record says it was paid again', async () => {
    const { stream, decision } = await reroutedToReplicate();
    const done = succeeded(stream, decision.metadata.jobId, 2);
    if ('why' in done) throw new Error(done.why);
    expect(
      planReplayStep(
        jobStateOf([...stream, done]),
        author,
        undefined,
        policy({ providers: ['replicate'] }, [decision.metadata.jobId]),
      ),
    ).toMatchObject({
      action: 'append',
      record: { data: { paidAgain: 'completed', replayOf: 2 }, metadata: { version: 4 } },
    });
  });

  it('given a job rejected retries_exhausted after re-routings, when its first provider is replayed, then it is skipped as rejected', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    await reviseRouting(aFailure(decision), { log, rules });
    await reviseRouting(
      { ...aFailure(decision, 2), provider: 'replicate', model: 'wan-2.1-i2v' },
      { log, rules },
    );
    const stream = await log.readStream(decision.metadata.stream);
    expect(stream.at(-1)).toMatchObject({ data: { decision: { data: { reason: 'retries_exhausted' } } } });
    expect(
      planReplayStep(jobStateOf(stream), author, undefined, policy({ providers: ['fal', 'replicate'] })),
    ).toMatchObject({
      action: 'skipped',
      reason: 'rejected',
    });
  });
});
