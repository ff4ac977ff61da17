import { describe, expect, it } from 'vitest';
import { describeHealthSignal } from '../../src/local/run-local.ts';
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
