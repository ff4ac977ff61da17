import { describe, expect, it } from 'vitest';
import type { HealthSignalsResponse } from '../../src/handlers/health-signals.ts';
import { signalAppended, signalChangeOf, stepsOf } from '../../src/local/signal-inputs.ts';
import { anAttemptEvent, aStatusEvent } from '../support/health-signals.ts';
import { aSubmittedEvent } from '../support/submissions.ts';

const submission = { event: aSubmittedEvent() };
const attempt = { event: anAttemptEvent() };
const status = { event: aStatusEvent({ provider: 'fal', state: 'forced_open' }) };

const transition = {
  key: 'fal',
  provider: 'fal',
  model: null,
  version: 1,
  previousStatus: 'closed',
  status: 'open',
  mode: 'auto',
  reason: 'consecutive_failures',
  detail: '5 consecutive failures (server_error)',
} as const;

const revisedRecord = {
  type: 'RoutingRevised',
  stream: 'job#j1',
  version: 2,
  jobId: 'j1',
  decision: { type: 'RoutingDecided', provider: 'replicate', model: 'kling', queue: 'ReplicateJobQueue' },
};

describe('the steps of npm run local inputs', () => {
  it('given submissions with signals between them, when split, then consecutive submissions share a step and each signal is a step of its own, in file order', () => {
    expect(stepsOf([submission, submission, attempt, status, submission])).toEqual([
      { kind: 'submissions', indexes: [0, 1] },
      { kind: 'signal', indexes: [2] },
      { kind: 'signal', indexes: [3] },
      { kind: 'submissions', indexes: [4] },
    ]);
  });

  it('given only submissions, when split, then they are one step (routed together, as before signals)', () => {
    expect(stepsOf([submission, submission])).toEqual([{ kind: 'submissions', indexes: [0, 1] }]);
  });

  it('given an event from provider.invoker of another detail-type, when split, then it is routed like a submission (the router refuses it)', () => {
    const other = { event: { ...attempt.event, 'detail-type': 'provider.attempt.started' } };
    expect(stepsOf([other])).toEqual([{ kind: 'submissions', indexes: [0] }]);
  });
});

describe('what a signal changed', () => {
  it('given a breaker transition, then the row has it from → to with its version, and one log record to project', () => {
    const response = { outcome: 'recorded', transitions: [transition] } as unknown as HealthSignalsResponse;
    expect(signalChangeOf(response)).toEqual({
      health: [{ key: 'fal', from: 'closed', to: 'open', version: 1, reason: 'consecutive_failures' }],
      revision: null,
      summary: 'health fal closed → open (v1)',
    });
    expect(signalAppended(response)).toBe(1);
  });

  it('given a revision, then the row has the new provider, queue, version and dispatch, and one log record to project', () => {
    const response = {
      outcome: 'unchanged',
      revision: { outcome: 'revised', record: revisedRecord },
    } as unknown as HealthSignalsResponse;
    expect(signalChangeOf(response)).toEqual({
      health: [],
      revision: {
        jobId: 'j1',
        stream: 'job#j1',
        version: 2,
        dispatchId: 'j1:v2',
        provider: 'replicate',
        model: 'kling',
        queue: 'ReplicateJobQueue',
        reason: null,
        already: false,
        heldFor: null,
      },
      summary: 'job v2 re-routed to replicate/kling',
    });
    expect(signalAppended(response)).toBe(1);
  });

  it('given a re-routing held because every candidate left was full, then the row names the lines it waits in and one log record to project; a repeat adds none', () => {
    const deferral = {
      type: 'RoutingDeferred',
      jobId: 'j1',
      stream: 'job#j1',
      version: 2,
      waitingFor: ['replicate'],
    };
    const held = {
      outcome: 'unchanged',
      revision: { outcome: 'held', duplicate: false, record: deferral },
    } as unknown as HealthSignalsResponse;
    expect(signalChangeOf(held)).toMatchObject({
      revision: { version: 2, provider: null, heldFor: ['replicate'], already: false },
      summary: 'job v2 held for replicate (every candidate left full)',
    });
    expect(signalAppended(held)).toBe(1);
    const again = {
      outcome: 'duplicate',
      revision: { outcome: 'held', duplicate: true, record: deferral },
    } as unknown as HealthSignalsResponse;
    expect(signalChangeOf(again).summary).toBe(
      'job v2 held for replicate (every candidate left full) (already)',
    );
    expect(signalAppended(again)).toBe(0);
  });

  it('given a revision an earlier signal made, then the row says so and nothing is left to project', () => {
    const response = {
      outcome: 'duplicate',
      revision: { outcome: 'duplicate', record: revisedRecord },
    } as unknown as HealthSignalsResponse;
    expect(signalChangeOf(response).summary).toBe('job v2 re-routed to replicate/kling (already)');
    expect(signalAppended(response)).toBe(0);
  });

  it('given a revision that rejected the job, then the row gives the reason and no provider', () => {
    const response = {
      outcome: 'unchanged',
      revision: {
        outcome: 'revised',
        record: { ...revisedRecord, decision: { type: 'RoutingRejected', reason: 'no_route' } },
      },
    } as unknown as HealthSignalsResponse;
    expect(signalChangeOf(response).revision).toMatchObject({
      provider: null,
      queue: null,
      reason: 'no_route',
    });
    expect(signalChangeOf(response).summary).toBe('job v2 rejected: no_route');
  });

  it('given an unchanged, ignored or refused signal, then the row says no change and nothing is projected', () => {
    for (const response of [
      { outcome: 'unchanged', revision: { outcome: 'ignored', why: 'not_terminal' } },
      { outcome: 'refused', problem: 'invalid_detail' },
    ] as unknown as HealthSignalsResponse[]) {
      expect(signalChangeOf(response)).toMatchObject({ health: [], revision: null });
      expect(signalChangeOf(response).summary).toMatch(/^no change/);
      expect(signalAppended(response)).toBe(0);
    }
  });
});
