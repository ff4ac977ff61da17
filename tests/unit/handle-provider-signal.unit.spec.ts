/**
 * HandleProviderSignal: the health-signals function's policy as a command over in-memory twins.
 * A success or a job-side terminal failure records the dispatch outcome; a provider-side terminal
 * failure revises the routing; every step is reported as it is taken.
 */
import { describe, expect, it } from 'vitest';
import {
  followUpOf,
  handleProviderSignal,
  type ProviderSignalStep,
} from '../../src/commands/handle-provider-signal.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { parseHealthSignal } from '../../src/provider-health/signals.ts';
import { anAttemptEvent } from '../support/health-signals.ts';
import { aRoutedJobInLog } from '../support/revisions.ts';

async function givenARoutedJob() {
  const { log, decision, rules } = await aRoutedJobInLog();
  const store = new InMemoryProviderHealthStore(log);
  const signalOf = (detail: Record<string, unknown>) => {
    const parsed = parseHealthSignal(
      anAttemptEvent({
        jobId: decision.metadata.jobId,
        provider: decision.data.provider,
        model: decision.data.model,
        ...detail,
      }),
    );
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.signal;
  };
  return { log, decision, deps: { store, revise: { log, rules } }, signalOf };
}

describe('what a terminal report owes the job (pure)', () => {
  it.each([
    ['succeeded', null, 'RecordDispatchOutcome'],
    ['failed_terminal', 'content_policy', 'RecordDispatchOutcome'],
    ['failed_terminal', 'server_error', 'ReviseRouting'],
    ['failed_terminal', 'never_heard_of_it', 'ReviseRouting'],
    ['failed_retryable', 'timeout', null],
    ['unknown', null, null],
  ])('given %s (%s), then %s', (outcome, errorClass, followUp) => {
    expect(followUpOf({ outcome, errorClass })).toBe(followUp);
  });
});

describe('a provider signal handled as one command', () => {
  it('given a success, when handled, then the breaker takes it and the job is done (no re-routing)', async () => {
    const { log, decision, deps, signalOf } = await givenARoutedJob();
    const steps: ProviderSignalStep['type'][] = [];
    const result = await handleProviderSignal(
      signalOf({ outcome: 'succeeded', errorClass: undefined }),
      deps,
      (step) => steps.push(step.type),
    );
    expect(result).toMatchObject({
      outcome: 'recorded',
      verdict: { outcome: 'recorded', jobId: decision.metadata.jobId },
    });
    expect(result.revision).toBeUndefined();
    expect(steps).toEqual(['HealthSignalRecorded', 'DispatchOutcomeHandled']);
    expect((await log.readStream(decision.metadata.stream)).map((r) => r.type)).toEqual([
      'RoutingDecided',
      'DispatchOutcomeRecorded',
    ]);
  });

  it('given a provider-side terminal failure, when handled, then the routing is revised', async () => {
    const { log, decision, deps, signalOf } = await givenARoutedJob();
    const steps: ProviderSignalStep['type'][] = [];
    const result = await handleProviderSignal(signalOf({ errorClass: 'server_error' }), deps, (step) =>
      steps.push(step.type),
    );
    expect(result.revision?.outcome).toBe('revised');
    expect(result.verdict).toBeUndefined();
    expect(steps).toEqual(['HealthSignalRecorded', 'RoutingRevisionHandled']);
    expect((await log.readStream(decision.metadata.stream)).map((r) => r.type)).toEqual([
      'RoutingDecided',
      'RoutingRevised',
    ]);
  });

  it('given a retryable failure, or no job streams to follow up in, then only the breaker takes it', async () => {
    const { log, decision, deps, signalOf } = await givenARoutedJob();
    const retryable = await handleProviderSignal(
      signalOf({ outcome: 'failed_retryable', errorClass: 'timeout' }),
      deps,
    );
    expect(retryable).toEqual({ outcome: 'recorded', transitions: expect.any(Array) });
    const breakerOnly = await handleProviderSignal(signalOf({ errorClass: 'server_error' }), {
      store: deps.store,
    });
    expect(breakerOnly.revision).toBeUndefined();
    expect(await log.readStream(decision.metadata.stream)).toHaveLength(1);
  });
});
