import { describe, expect, it, vi } from 'vitest';
import {
  ATTEMPT_DETAIL_TYPE,
  attemptKeyOf,
  JOB_STARTED_DETAIL_TYPE,
  parseHealthSignal,
  parseJobStarted,
  SIGNAL_SOURCE,
  STATUS_DETAIL_TYPE,
} from '../../src/provider-health/signals.ts';

const attemptEvent = (detail: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
  id: 'evt-1',
  source: SIGNAL_SOURCE,
  'detail-type': ATTEMPT_DETAIL_TYPE,
  time: '2026-11-25T14:02:00Z',
  detail: {
    jobId: 'job-1',
    provider: 'fal',
    model: 'wan-i2v',
    dispatchId: 'job-1:v1',
    outcome: 'failed_terminal',
    errorClass: 'server_error',
    latencyMs: 1200,
    ts: '2026-11-25T14:01:59.000Z',
    ...detail,
  },
  ...overrides,
});

describe('parsing health signals', () => {
  it('given an attempt event, then it becomes a RecordAttempt for the provider#model breaker at the event time', () => {
    const parsed = parseHealthSignal(attemptEvent({}));
    expect(parsed).toMatchObject({
      ok: true,
      signal: {
        key: 'fal#wan-i2v',
        command: {
          type: 'RecordAttempt',
          signalId: attemptKeyOf({ dispatchId: 'job-1:v1', outcome: 'failed_terminal' }),
          at: '2026-11-25T14:02:00.000Z',
          outcome: 'failed_terminal',
          errorClass: 'server_error',
          dispatchId: 'job-1:v1',
        },
      },
    });
  });

  it('given the same report published again under a new envelope id and time, then its dedupe key is the same', () => {
    const first = parseHealthSignal(attemptEvent({}));
    const again = parseHealthSignal({
      ...attemptEvent({}),
      id: 'evt-republished',
      time: '2026-11-25T15:00:00Z',
    });
    expect(first.ok && again.ok && first.signal.command.signalId).toBe(
      again.ok && again.signal.command.signalId,
    );
  });

  it('given two attempts of one dispatch with their own attemptId, then each has its own dedupe key', () => {
    const keyOf = (attemptId: string) => {
      const parsed = parseHealthSignal(attemptEvent({ attemptId }));
      return parsed.ok ? parsed.signal.command.signalId : null;
    };
    expect(keyOf('job-1:v1#1')).not.toBe(keyOf('job-1:v1#2'));
    expect(keyOf('job-1:v1#1')).toBe(
      attemptKeyOf({ dispatchId: 'job-1:v1', outcome: 'succeeded', attemptId: 'job-1:v1#1' }),
    );
  });

  it('given an attempt without model or errorClass, then the provider-level breaker is named and errorClass is null', () => {
    const parsed = parseHealthSignal(
      attemptEvent({ model: undefined, errorClass: undefined, outcome: 'succeeded' }),
    );
    expect(parsed).toMatchObject({
      ok: true,
      signal: { key: 'fal', model: null, command: { errorClass: null } },
    });
  });

  it('given an operator status event, then it becomes a ChangeMode', () => {
    const parsed = parseHealthSignal({
      id: 'evt-op',
      'detail-type': STATUS_DETAIL_TYPE,
      time: '2026-11-25T14:05:00Z',
      detail: { provider: 'fal', state: 'forced_open', actor: 'ops@example.com', reason: 'incident' },
    });
    expect(parsed).toMatchObject({
      ok: true,
      signal: {
        key: 'fal',
        attempt: null,
        command: { type: 'ChangeMode', mode: 'forced_open', actor: 'ops@example.com' },
      },
    });
  });

  it.each([
    ['no event id', attemptEvent({}, { id: undefined }), 'event id missing'],
    ['no event time', attemptEvent({}, { time: 'yesterday' }), 'event time missing or not a date-time'],
    [
      'an unknown detail-type',
      attemptEvent({}, { 'detail-type': 'provider.other' }),
      'unsupported detail-type',
    ],
    ['an unknown outcome', attemptEvent({ outcome: 'exploded' }), 'invalid attempt signal'],
    [
      'a status without actor',
      { ...attemptEvent({}), 'detail-type': STATUS_DETAIL_TYPE, detail: { provider: 'fal', state: 'auto' } },
      'invalid status signal',
    ],
  ])('given %s, then it is refused with a content-free problem', (_case, event, problem) => {
    const parsed = parseHealthSignal(event);
    expect(parsed).toMatchObject({ ok: false, problem });
  });

  it('given an event without its id or time, then the refusal names the missing field', () => {
    expect(parseHealthSignal(attemptEvent({}, { id: undefined }))).toMatchObject({ paths: ['id'] });
    expect(parseHealthSignal(attemptEvent({}, { time: undefined }))).toMatchObject({ paths: ['time'] });
  });

  it('given an invalid attempt, then the refusal names paths, never the values', () => {
    const parsed = parseHealthSignal(attemptEvent({ provider: 'SECRET PROMPT TEXT' }));
    expect(JSON.stringify(parsed)).not.toContain('SECRET');
    expect(parsed).toMatchObject({ ok: false, paths: ['provider'] });
  });
});

describe('an attempt report with an unclassified errorClass', () => {
  it.each([
    ['server_eror', 1],
    ['server_error', 0],
    ['content_policy', 0],
  ])(
    'given a failure of class %s, then UnclassifiedErrorClass is counted %i time(s)',
    async (errorClass, times) => {
      const { aSignalFunction } = await import('../support/health-signals.ts');
      const { createTelemetry } = await import('../../src/observability/telemetry.ts');
      const { InMemoryProviderHealthStore } = await import(
        '../../src/memory/in-memory-provider-health-store.ts'
      );
      const { anAttemptEvent } = await import('../support/health-signals.ts');
      const { aLocalLambdaContext } = await import('../../src/local/lambda-context.ts');
      const telemetry = createTelemetry('health-signals', 'test');
      const metric = vi.spyOn(telemetry.metrics, 'addMetric');
      vi.spyOn(telemetry.logger, 'warn').mockImplementation(() => undefined);
      const { InMemoryRoutingLog } = await import('../../src/memory/in-memory-routing-log.ts');
      const store = new InMemoryProviderHealthStore(new InMemoryRoutingLog());
      const handler = aSignalFunction({ store }, telemetry);
      await handler(anAttemptEvent({ errorClass }), aLocalLambdaContext());
      expect(metric.mock.calls.filter(([name]) => name === 'UnclassifiedErrorClass')).toHaveLength(times);
    },
  );
});

describe('the failure-rate rule in the function', () => {
  it('given 6 of 10 attempts failed in one window (never 5 in a row), when a later signal lets the window close, then the breaker opens on the failure rate and the transition is logged and counted', async () => {
    const { aSignalFunction } = await import('../support/health-signals.ts');
    const { createTelemetry } = await import('../../src/observability/telemetry.ts');
    const { InMemoryProviderHealthStore } = await import(
      '../../src/memory/in-memory-provider-health-store.ts'
    );
    const { InMemorySignalWindows } = await import('../../src/memory/in-memory-signal-windows.ts');
    const { InMemoryRoutingLog } = await import('../../src/memory/in-memory-routing-log.ts');
    const { aLocalLambdaContext } = await import('../../src/local/lambda-context.ts');
    const telemetry = createTelemetry('health-signals', 'test');
    const metric = vi.spyOn(telemetry.metrics, 'addMetric');
    const info = vi.spyOn(telemetry.logger, 'info').mockImplementation(() => undefined);
    vi.spyOn(telemetry.logger, 'debug').mockImplementation(() => undefined);
    const store = new InMemoryProviderHealthStore(new InMemoryRoutingLog());
    const start = Date.parse('2026-11-25T14:02:00Z');
    const clock = { now: start + 1_000 };
    const handler = aSignalFunction(
      { store, windows: { windows: new InMemorySignalWindows(), now: () => clock.now } },
      telemetry,
    );
    const pattern = ['f', 's', 'f', 'f', 's', 'f', 's', 'f', 's', 'f'];
    const event = (i: number, failed: boolean, seconds: number) =>
      attemptEvent(
        {
          jobId: `job-${i}`,
          dispatchId: `job-${i}:v1`,
          outcome: failed ? 'failed_terminal' : 'succeeded',
          errorClass: failed ? 'server_error' : null,
        },
        { id: `evt-${i}`, time: new Date(start + seconds * 1000).toISOString() },
      );
    for (const [i, p] of pattern.entries()) await handler(event(i, p === 'f', i / 2), aLocalLambdaContext());
    expect((await store.load({ provider: 'fal', model: 'wan-i2v' })).state.status).toBe('closed');
    // Due (its end + grace + settle); the later signal, in a window still admitting, runs the closer.
    const { closesAtOf } = await import('../../src/provider-health/signal-windows.ts');
    clock.now = closesAtOf(start);
    await handler(event(99, false, 45), aLocalLambdaContext());
    const { state } = await store.load({ provider: 'fal', model: 'wan-i2v' });
    expect(state).toMatchObject({ status: 'open', reason: 'failure_rate', windowsJudgedThrough: start });
    expect(info).toHaveBeenCalledWith(
      'provider health changed',
      expect.objectContaining({ command: 'JudgeWindows', reason: 'failure_rate', to: 'open' }),
    );
    expect(metric.mock.calls.filter(([name]) => name === 'HealthTransitions')).toHaveLength(1);
  });
});

describe('parsing provider.job.started and the measures of a completion', () => {
  const started = (detail: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
    id: 'evt-s',
    source: SIGNAL_SOURCE,
    'detail-type': JOB_STARTED_DETAIL_TYPE,
    time: '2026-11-25T14:01:12Z',
    detail: {
      jobId: 'job-1',
      provider: 'fal',
      model: 'wan-i2v',
      dispatchId: 'job-1:v1',
      queueWaitMs: 41250,
      ts: '2026-11-25T14:01:11.803Z',
      ...detail,
    },
    ...overrides,
  });

  it('given a job-started event, then its queue wait is read', () => {
    expect(parseJobStarted(started({}))).toEqual({
      ok: true,
      eventId: 'evt-s',
      started: expect.objectContaining({ provider: 'fal', queueWaitMs: 41250 }),
    });
  });

  it('given a queue wait that is not a finite duration, or no id, then it is refused by path without quoting it', () => {
    for (const queueWaitMs of [-1, Number.POSITIVE_INFINITY, Number.NaN, '41250', 8 * 24 * 3600 * 1000]) {
      const parsed = parseJobStarted(started({ queueWaitMs }));
      expect(parsed).toEqual({ ok: false, problem: 'invalid job-started signal', paths: ['queueWaitMs'] });
    }
    expect(parseJobStarted(started({}, { id: '' }))).toMatchObject({
      ok: false,
      problem: 'event id missing',
    });
  });

  it('given runMs and costUsd on a completion, then they are kept; negative or infinite ones are refused', () => {
    expect(
      parseHealthSignal(attemptEvent({ outcome: 'succeeded', runMs: 61_000, costUsd: 0.42 })),
    ).toMatchObject({
      ok: true,
      signal: { attempt: { runMs: 61_000, costUsd: 0.42 } },
    });
    expect(parseHealthSignal(attemptEvent({ runMs: -5 }))).toMatchObject({ ok: false, paths: ['runMs'] });
    expect(parseHealthSignal(attemptEvent({ costUsd: Number.POSITIVE_INFINITY }))).toMatchObject({
      ok: false,
      paths: ['costUsd'],
    });
  });
});
