import { describe, expect, it } from 'vitest';
import { type ErasureAuthor, planErasureStep } from '../../src/commands/forget-plan.ts';
import type { IncidentAuthor } from '../../src/commands/incident-batch.ts';
import { planRedriveSteps } from '../../src/commands/redrive-plan.ts';
import { planReplayStep, type ReplayPolicy, replayIdOf } from '../../src/commands/replay-plan.ts';
import { type FailedAttempt, planRevision } from '../../src/commands/revise-routing.ts';
import { evolveJob, initialJobState, type JobState, jobStateOf } from '../../src/log/job-state.ts';
import type {
  ContentErasedRecord,
  DecisionRecord,
  RoutingLogRecord,
  RoutingRevisedRecord,
} from '../../src/log/routing-records.ts';
import { DeciderSpecification } from '../support/decider-specification.ts';
import { aNoRouteRecord, aReplayOf, aRoutedRecord } from '../support/records.ts';

const AT = '2026-11-26T12:00:00.000Z';

const anErasure = (decision: DecisionRecord, version: number): ContentErasedRecord => ({
  stream: decision.stream,
  version,
  schemaVersion: decision.schemaVersion,
  jobId: decision.jobId,
  recordedAt: AT,
  type: 'ContentErased',
  erasureId: 'erasure-1',
  requestedBy: 'dpo',
  why: 'request #1',
});

const aRevision = (
  decision: DecisionRecord,
  version: number,
  outcome: DecisionRecord,
  revision = 1,
): RoutingRevisedRecord => ({
  stream: decision.stream,
  version,
  schemaVersion: decision.schemaVersion,
  jobId: decision.jobId as string,
  recordedAt: AT,
  type: 'RoutingRevised',
  revision,
  revises: version - 1,
  failedDispatchId: `${decision.jobId}:v${version - 1}`,
  failedProvider: 'fal',
  failedModel: null,
  causedBy: 'sig-1',
  decision: { ...outcome, stream: decision.stream, jobId: decision.jobId } as DecisionRecord,
});

const jobDecider = <Command, Decision>(decide: (command: Command, state: JobState) => Decision) =>
  DeciderSpecification.for<JobState, RoutingLogRecord, Command, Decision>({
    evolve: evolveJob,
    initialState: initialJobState,
    decide,
  });

describe('evolveJob: the one fold of a job stream', () => {
  it('given no record, then the state is the initial one: nothing decided, next version 1', () => {
    expect(jobStateOf([])).toEqual(initialJobState);
    expect(initialJobState.version).toBe(0);
  });

  it('given a routed decision, then it is the decision, the routing in force and the one dispatch', () => {
    const decision = aRoutedRecord();
    const state = jobStateOf([decision]);
    expect(state).toMatchObject({ stream: decision.stream, version: 1, decision, closed: false });
    expect(state.current).toEqual({ version: 1, decision, record: decision });
    expect(state.dispatches).toEqual([{ version: 1, decision, revision: 0 }]);
    expect(state.done).toBeNull();
    expect(state.owed).toEqual([decision]);
  });

  it('given a rejection, then nothing was dispatched but the projector still owes its announcement', () => {
    const rejection = aNoRouteRecord();
    const state = jobStateOf([rejection]);
    expect(state.dispatches).toEqual([]);
    expect(state.owed).toEqual([rejection]);
  });

  it('given a replay, then it is the current dispatch and owed; withheld, it supersedes but is not owed', () => {
    const decision = aRoutedRecord();
    const replay = aReplayOf(decision, 2);
    expect(jobStateOf([decision, replay])).toMatchObject({
      version: 2,
      current: { version: 2, record: replay },
      replays: [replay],
      owed: [decision, replay],
    });
    const withheld = { ...replay, contentWithheld: 'content_erased' as const };
    const state = jobStateOf([decision, withheld]);
    expect(state.dispatches.map((d) => d.version)).toEqual([1, 2]);
    expect(state.owed).toEqual([decision]);
  });

  it('given a revision that rejects, then the job is closed until a later record routes it again', () => {
    const decision = aRoutedRecord();
    const closing = aRevision(decision, 2, aNoRouteRecord());
    expect(jobStateOf([decision, closing])).toMatchObject({ closed: true, revisions: [closing], version: 2 });
    expect(jobStateOf([decision, closing, anErasure(decision, 3)]).closed).toBe(true);
    expect(jobStateOf([decision, closing, aReplayOf(decision, 3)]).closed).toBe(false);
  });

  it('given an erasure, then it is kept (the first one) and the version moves on', () => {
    const decision = aRoutedRecord();
    const erasure = anErasure(decision, 2);
    expect(jobStateOf([decision, erasure, { ...erasure, version: 3 }])).toMatchObject({
      erasure,
      version: 3,
    });
  });
});

describe('ReplayProjections decider (planReplayStep over the fold)', () => {
  const author: IncidentAuthor = { incident: 'INC-1', requestedBy: 'ops', why: 'outage', at: AT };
  const everyProvider: ReplayPolicy = {
    selection: { providers: ['fal', 'replicate'], outcome: 'routed' },
    payAgainFor: new Set(),
  };
  const spec = jobDecider((command: IncidentAuthor, state: JobState) =>
    planReplayStep(state, command, undefined, everyProvider),
  );

  it('given a decision and an erasure, when replayed, then the replay goes at version 3 and carries the decision', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision, anErasure(decision, 2)])
      .when(author)
      .thenMatches((step) => {
        expect(step).toMatchObject({ action: 'append', record: { version: 3, replayOf: 1, decision } });
      });
  });

  it('given a replay of the same incident, when replayed again, then nothing is appended', () => {
    const decision = aRoutedRecord();
    const replay = { ...aReplayOf(decision, 2), replayId: replayIdOf('INC-1') };
    spec.given([decision, replay]).when(author).thenDecides({ action: 'already_replayed', record: replay });
  });

  it('given no decision, when replayed, then there is nothing to replay', () => {
    spec.given([]).when(author).thenDecides({ action: 'no_decision' });
  });
});

describe('ForgetUser decider (planErasureStep over the fold)', () => {
  const author: ErasureAuthor = { erasureId: 'erasure-9', requestedBy: 'dpo', why: 'ticket', at: AT };
  const spec = jobDecider((command: ErasureAuthor, state: JobState) => planErasureStep(state, command));

  it('given a decision and a replay, when erased, then ContentErased goes at version 3', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision, aReplayOf(decision, 2)])
      .when(author)
      .thenDecides({
        action: 'append',
        record: {
          stream: decision.stream,
          version: 3,
          schemaVersion: decision.schemaVersion,
          jobId: decision.jobId,
          recordedAt: AT,
          type: 'ContentErased',
          erasureId: 'erasure-9',
          requestedBy: 'dpo',
          why: 'ticket',
        },
      });
  });

  it('given an erasure already, when erased again, then it is already erased at its version', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision, anErasure(decision, 2)])
      .when(author)
      .thenDecides({ action: 'already_erased', version: 2 });
  });
});

describe('RedriveProjections decider (planRedriveSteps over the fold)', () => {
  const author: IncidentAuthor = { incident: 'INC-7', requestedBy: 'ops', why: 'dlq', at: AT };
  const spec = jobDecider((command: IncidentAuthor, state: JobState) =>
    planRedriveSteps(state, new Map(), command, '2026-01-01T00:00:00.000Z').map((step) => [
      step.action,
      step.target.version,
      step.record?.version ?? null,
    ]),
  );

  it('given a decision, a withheld replay and a revision, when re-driven, then only the owed current dispatch is re-driven: the superseded decision is skipped', () => {
    const decision = aRoutedRecord();
    const withheld = { ...aReplayOf(decision, 2), contentWithheld: 'content_expired' as const };
    const revision = aRevision(decision, 3, aRoutedRecord({ provider: 'replicate' }));
    spec
      .given([decision, withheld, revision])
      .when(author)
      .thenDecides([
        ['skipped', 1, null],
        ['append', 3, 4],
      ]);
  });
});

describe('ReviseRouting decider (planRevision over the fold)', () => {
  const failureOf = (decision: DecisionRecord, version: number): FailedAttempt => ({
    signalId: 'sig-9',
    at: AT,
    jobId: decision.jobId as string,
    dispatchId: `${decision.jobId}:v${version}`,
    provider: 'fal',
    model: null,
    outcome: 'failed_terminal',
  });
  const spec = jobDecider((attempt: FailedAttempt, state: JobState) => planRevision(state, attempt));

  it('given a routed decision, when its dispatch fails, then a revision goes at version 2', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision])
      .when(failureOf(decision, 1))
      .thenMatches((plan) =>
        expect(plan).toMatchObject({ kind: 'revise', version: 2, revises: 1, revisions: 0 }),
      );
  });

  it('given a replay after the decision, when the older dispatch fails, then it is not current', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision, aReplayOf(decision, 2)])
      .when(failureOf(decision, 1))
      .thenDecides({ kind: 'ignored', why: 'not_current' });
  });

  it('given a closing revision, when any dispatch fails, then the job is closed', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision, aRevision(decision, 2, aNoRouteRecord())])
      .when(failureOf(decision, 1))
      .thenDecides({ kind: 'ignored', why: 'closed' });
  });

  it('given an erasure, when the dispatch fails, then the job is not re-routed (its content is gone)', () => {
    const decision = aRoutedRecord();
    spec
      .given([decision, anErasure(decision, 2)])
      .when(failureOf(decision, 1))
      .thenDecides({ kind: 'ignored', why: 'content_erased' });
  });

  it('given only a rejection, when a failure is reported, then there is no routed decision', () => {
    const rejection = aNoRouteRecord();
    spec
      .given([rejection])
      .when(failureOf(rejection, 1))
      .thenDecides({ kind: 'ignored', why: 'no_routed_decision' });
  });
});

describe('the fold says when a job is done (never paid for again without --pay-again-for)', () => {
  it('given a provider’s success of its dispatch, then it is done: completed, and a later replay does not undo it', () => {
    const decision = aRoutedRecord();
    const completed = {
      ...decision,
      version: 2,
      type: 'DispatchOutcomeRecorded',
      outcome: 'succeeded',
      dispatchId: `${decision.jobId}:v1`,
    } as unknown as RoutingLogRecord;
    expect(jobStateOf([decision, completed]).done).toEqual({ reason: 'completed', version: 2 });
    expect(jobStateOf([decision, completed, aReplayOf(decision, 3)]).done).toEqual({
      reason: 'completed',
      version: 2,
    });
  });

  it('given a rejection at intake, then it is done: rejected; an explicit provider’s failure is done: failed', () => {
    expect(jobStateOf([aNoRouteRecord()]).done?.reason).toBe('rejected');
    const decision = aRoutedRecord({ provider: 'fal' });
    const failed = aRevision(decision, 2, {
      ...aNoRouteRecord(),
      reason: 'provider_failed',
    } as DecisionRecord);
    expect(jobStateOf([decision, failed]).done).toEqual({ reason: 'failed', version: 2 });
  });
});
