import { describe, expect, it } from 'vitest';
import { recordDispatchOutcome } from '../../src/commands/record-dispatch-outcome.ts';
import { laterOf, reviseRouting } from '../../src/commands/revise-routing.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import { aFailure, aRoutedJobInLog } from '../support/revisions.ts';

const aReport = (jobId: string, version: number, overrides: Record<string, unknown> = {}) => ({
  attemptKey: `attempt-${jobId}-${version}`,
  at: '2026-11-25T14:05:00.000Z',
  jobId,
  dispatchId: `${jobId}:v${version}`,
  provider: 'fal',
  model: 'wan-i2v',
  outcome: 'succeeded',
  errorClass: null,
  ...overrides,
});

describe('a provider’s verdict on a dispatch makes the job done', () => {
  it('given a routed job, when its dispatch succeeds, then the outcome is recorded once and the job is done (completed)', async () => {
    const { log, decision } = await aRoutedJobInLog();
    expect(await recordDispatchOutcome(aReport(decision.metadata.jobId, 1), { log })).toMatchObject({
      outcome: 'recorded',
      record: {
        type: 'DispatchOutcomeRecorded',
        data: { outcome: 'succeeded', routingVersion: 1 },
        metadata: { version: 2 },
      },
    });
    expect(
      await recordDispatchOutcome({ ...aReport(decision.metadata.jobId, 1), attemptKey: 'again' }, { log }),
    ).toEqual({
      outcome: 'ignored',
      why: 'already_done',
    });
    expect(jobStateOf(await log.readStream(decision.metadata.stream)).done).toEqual({
      reason: 'completed',
      version: 2,
    });
  });

  it('given a content_policy failure, when reported, then the job is not re-routed: it is done (failed) and a later provider failure moves nothing', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    const policy = aFailure(decision, 1, { errorClass: 'content_policy' });
    expect(await reviseRouting(policy, { log, rules })).toEqual({
      outcome: 'ignored',
      why: 'job_side_failure',
    });
    expect(
      await recordDispatchOutcome(
        aReport(decision.metadata.jobId, 1, { outcome: 'failed_terminal', errorClass: 'content_policy' }),
        { log },
      ),
    ).toMatchObject({
      outcome: 'recorded',
      record: { data: { outcome: 'failed_terminal', errorClass: 'content_policy' } },
    });
    expect(await reviseRouting(aFailure(decision), { log, rules })).toEqual({
      outcome: 'ignored',
      why: 'closed',
    });
  });

  it('given a provider-side failure or a retryable one, then no verdict is recorded (re-routing or the consumer’s retry decide)', async () => {
    const { log, decision } = await aRoutedJobInLog();
    for (const overrides of [
      { outcome: 'failed_terminal', errorClass: 'server_error' },
      { outcome: 'failed_retryable', errorClass: 'timeout' },
      { outcome: 'unknown' },
    ]) {
      expect(
        (await recordDispatchOutcome(aReport(decision.metadata.jobId, 1, overrides), { log })).outcome,
      ).toBe('ignored');
    }
    expect(await log.readStream(decision.metadata.stream)).toHaveLength(1);
  });

  it('given a report about a dispatch the job never had, then nothing is recorded', async () => {
    const { log, decision } = await aRoutedJobInLog();
    expect(await recordDispatchOutcome(aReport(decision.metadata.jobId, 7), { log })).toEqual({
      outcome: 'ignored',
      why: 'unknown_dispatch',
    });
  });

  it('given a job-side failure of a superseded dispatch, then it is not the job’s verdict', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    await reviseRouting(aFailure(decision), { log, rules });
    expect(
      await recordDispatchOutcome(
        aReport(decision.metadata.jobId, 1, { outcome: 'failed_terminal', errorClass: 'content_policy' }),
        { log },
      ),
    ).toEqual({ outcome: 'ignored', why: 'not_current' });
  });
});

describe('re-routing times never go back', () => {
  it('given a report whose whole-second event time precedes the decision, then the revision is recorded 1 ms after the decision', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    const early = { ...aFailure(decision), at: '2026-11-25T10:00:01.000Z' };
    const result = await reviseRouting(early, { log, rules });
    expect(result).toMatchObject({ outcome: 'revised' });
    const recordedAt = result.outcome === 'revised' ? result.record.metadata.recordedAt : '';
    expect(recordedAt > decision.metadata.recordedAt).toBe(true);
    expect(laterOf('2026-11-25T10:00:00.000Z', '2026-11-25T10:00:01.412Z')).toBe('2026-11-25T10:00:01.413Z');
    expect(laterOf('2026-11-25T10:00:05.000Z', '2026-11-25T10:00:01.412Z')).toBe('2026-11-25T10:00:05.000Z');
  });

  it('given the last untried provider failed, then retries_exhausted names the rule of the failed dispatch, not the fall-through rule', async () => {
    const { log, decision, rules } = await aRoutedJobInLog();
    await reviseRouting(aFailure(decision), { log, rules });
    const last = await reviseRouting(
      { ...aFailure(decision, 2), provider: 'replicate', model: 'wan-2.1-i2v' },
      { log, rules },
    );
    expect(last).toMatchObject({
      record: {
        data: {
          decision: {
            data: { reason: 'retries_exhausted', explanation: { matchedRule: 'auto-short-720p-fal' } },
          },
        },
      },
    });
  });
});
