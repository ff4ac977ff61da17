import { describe, expect, it } from 'vitest';
import {
  describeHealthSignal,
  describeSignalItem,
  LocalSignalFailedError,
  signalResponseOf,
} from '../../src/local/run-local.ts';
import { aTransition } from '../support/provider-health-contract.ts';
import { aRevisionRecord } from '../support/revisions.ts';

describe('the live stack’s line per health signal', () => {
  it('given a transition, then it names the breaker and the versions', () => {
    expect(describeHealthSignal('e1', { outcome: 'recorded', transitions: [aTransition('fal')] })).toBe(
      'event e1: health fal closed → open (v1)',
    );
  });

  it.each([
    [
      { outcome: 'refused' as const, problem: 'invalid attempt signal' },
      'event e1: health signal refused (invalid attempt signal)',
    ],
    [{ outcome: 'duplicate' as const }, 'event e1: health duplicate'],
    [
      {
        outcome: 'unchanged' as const,
        revision: { outcome: 'ignored' as const, why: 'not_current' as const },
      },
      'event e1: health unchanged; not re-routed (not_current)',
    ],
  ])('given %j, then "%s"', (response, line) => {
    expect(describeHealthSignal('e1', response)).toBe(line);
  });

  it('given a re-routing and a provider failure, then the job, version and outcome are named', async () => {
    const routed = await aRevisionRecord('routed');
    const failed = await aRevisionRecord('explicit');
    expect(
      describeHealthSignal('e1', {
        outcome: 'recorded',
        transitions: [],
        revision: { outcome: 'revised', record: routed },
      }),
    ).toBe(`event e1: health recorded; job ${routed.metadata.jobId} v2 re-routed to replicate`);
    expect(
      describeHealthSignal('e1', {
        outcome: 'unchanged',
        revision: { outcome: 'duplicate', record: failed },
      }),
    ).toBe(`event e1: health unchanged; job ${failed.metadata.jobId} v2 rejected: provider_failed (already)`);
  });
});

describe('the live stack’s line per signal message, and what a file run makes of it', () => {
  const handled = {
    id: 'm1',
    eventId: 'e1',
    kind: 'handled' as const,
    response: { outcome: 'duplicate' as const },
  };
  const rejected = {
    id: 'm2',
    eventId: null,
    kind: 'rejected' as const,
    reason: 'invalid_signal' as const,
    problem: 'invalid attempt signal',
    paths: ['outcome'],
  };
  const failed = {
    id: 'm3',
    eventId: 'e3',
    kind: 'failed' as const,
    failure: { code: 'ProvisionedThroughputExceededException', message: 'slow down' },
  };

  it('given a handled message, then its line is the signal’s', () => {
    expect(describeSignalItem(handled)).toBe('event e1: health duplicate');
  });

  it('given a refused message without an event id, then its line names the message, the reason and the paths, and says it was deleted', () => {
    expect(describeSignalItem(rejected)).toBe(
      'message m2: health signal refused (invalid_signal, invalid attempt signal: outcome); deleted',
    );
  });

  it('given a failed message, then its line names the error class and that SQS delivers it again', () => {
    expect(describeSignalItem(failed)).toBe(
      'event e3: health signal failed (ProvisionedThroughputExceededException); SQS delivers it again',
    );
  });

  it('given each fate, then a file run reads the response, a refusal with its paths, or fails naming the class', () => {
    expect(signalResponseOf(handled)).toEqual({ outcome: 'duplicate' });
    expect(signalResponseOf(rejected)).toEqual({
      outcome: 'refused',
      problem: 'invalid attempt signal: outcome',
    });
    expect(() => signalResponseOf(failed)).toThrow(LocalSignalFailedError);
    expect(() => signalResponseOf(undefined)).toThrow(/not received/);
  });
});
