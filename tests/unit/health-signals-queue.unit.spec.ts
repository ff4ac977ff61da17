/**
 * The HealthSignals function as its queue's event source drives it: an SQS batch whose bodies are
 * EventBridge events, handled together, answered with the messages whose own effects failed.
 */
import { describe, expect, it, vi } from 'vitest';
import { createHealthSignalsHandler, type SignalItemResult } from '../../src/handlers/health-signals.ts';
import { readSignalMessage, SIGNAL_REJECTIONS } from '../../src/handlers/signal-messages.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { BreakerAppendOptions, BreakerRecord } from '../../src/log/breaker-records.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { effectiveStatus } from '../../src/provider-health/breaker.ts';
import { WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
import { attemptKeyOf, JOB_STARTED_DETAIL_TYPE, SIGNAL_SOURCE } from '../../src/provider-health/signals.ts';
import { anAttemptEvent, anSqsEventOf, atSecond } from '../support/health-signals.ts';

const FAL = { provider: 'fal', model: 'wan-i2v' };
const START = Date.parse(atSecond(0));

/** A provider-health store whose append counting the named signals fails, as DynamoDB's would under an outage. */
class StoreFailingFor extends InMemoryProviderHealthStore {
  readonly #failing: ReadonlySet<string>;
  constructor(failing: readonly string[]) {
    super(new InMemoryRoutingLog());
    this.#failing = new Set(failing);
  }
  override async appendToStream(
    stream: string,
    records: readonly BreakerRecord[],
    options: BreakerAppendOptions,
  ) {
    if (records.some((r) => r.type === 'HealthSignalCounted' && this.#failing.has(r.data.signalId))) {
      throw Object.assign(new Error('Throughput exceeds the current capacity'), {
        name: 'ProvisionedThroughputExceededException',
      });
    }
    return super.appendToStream(stream, records, options);
  }
}

function aFunction(store = new InMemoryProviderHealthStore(new InMemoryRoutingLog())) {
  const telemetry = createTelemetry('health-signals', 'test');
  const metrics = vi.spyOn(telemetry.metrics, 'addMetric');
  const single = vi.spyOn(telemetry.metrics, 'singleMetric');
  const warn = vi.spyOn(telemetry.logger, 'warn').mockImplementation(() => undefined);
  const error = vi.spyOn(telemetry.logger, 'error').mockImplementation(() => undefined);
  vi.spyOn(telemetry.logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(telemetry.logger, 'debug').mockImplementation(() => undefined);
  const windows = new InMemorySignalWindows();
  const items: SignalItemResult[] = [];
  const handler = createHealthSignalsHandler(
    { store, windows: { windows, now: () => START + 1_000 } },
    telemetry,
    { onItem: (item) => items.push(item) },
  );
  const deliver = async (records: ReturnType<typeof anSqsEventOf>) => {
    items.length = 0;
    return handler(records as never, aLocalLambdaContext());
  };
  return { store, windows, items, deliver, metrics, single, warn, error };
}

const failure = (n: number) =>
  anAttemptEvent({ jobId: `job-${n}`, dispatchId: `job-${n}:v1` }, { id: `evt-${n}`, seconds: n / 10 });
const success = (n: number) =>
  anAttemptEvent(
    { jobId: `job-${n}`, dispatchId: `job-${n}:v1`, outcome: 'succeeded', errorClass: null },
    { id: `evt-${n}`, seconds: n / 10 },
  );

describe('the HealthSignals function on an SQS batch', () => {
  it('given five counted failures of one breaker in one batch, when handled, then no message fails and the breaker opens within the batch (provisionally: recorded when their window closes)', async () => {
    const fn = aFunction();
    const response = await fn.deliver(anSqsEventOf([0, 1, 2, 3, 4].map(failure)));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fn.items.map((item) => item.kind)).toEqual(Array(5).fill('handled'));
    const { state } = await fn.store.load(FAL);
    expect(effectiveStatus(state, atSecond(1))).toBe('open');
    expect(state.provisional).toMatchObject({ at: atSecond(0.4), version: 1 });
  });

  it('given one message whose breaker commit fails, when handled, then only that message is named in batchItemFailures and its neighbours take effect', async () => {
    const broken = failure(2);
    const fn = aFunction(new StoreFailingFor([attemptKeyOf(broken.detail as never)]));
    const events = [failure(0), failure(1), broken, failure(3)];
    const response = await fn.deliver(anSqsEventOf(events, ['m0', 'm1', 'm2', 'm3']));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(fn.items.find((item) => item.id === 'm2')).toMatchObject({
      kind: 'failed',
      eventId: 'evt-2',
      failure: { code: 'ProvisionedThroughputExceededException' },
    });
    expect((await fn.store.load(FAL)).state.consecutiveFailures).toBe(3);
    expect(fn.error).toHaveBeenCalledWith(
      'health signal failed; it will be delivered again',
      expect.objectContaining({ messageId: 'm2' }),
    );
    expect(fn.metrics).toHaveBeenCalledWith('HealthSignalsFailed', 'Count', 1);
  });

  it('given a message delivered a second time (its batch was retried), when handled again, then it counts once in its breaker and once in its window', async () => {
    const fn = aFunction();
    const batch = anSqsEventOf([failure(0), failure(1), success(2)], ['m0', 'm1', 'm2']);
    await fn.deliver(batch);
    const redelivered = await fn.deliver(batch);
    expect(redelivered).toEqual({ batchItemFailures: [] });
    expect(fn.items.map((item) => (item.kind === 'handled' ? item.response.outcome : item.kind))).toEqual([
      'duplicate',
      'duplicate',
      'recorded',
    ]);
    // The success broke both failures' run: their markers were written, never the breaker item.
    expect(await fn.store.load(FAL)).toMatchObject({ rev: 0, state: { consecutiveFailures: 0 } });
    const windowStartMs = Math.floor(START / WINDOW_MS) * WINDOW_MS;
    const counts = await fn.windows.readWindows([{ pair: FAL, windowStartMs }]);
    const [window] = [...counts.values()];
    expect(window).toMatchObject({ n: 3, 'o:failed_terminal': 2, 'o:succeeded': 1 });
  });

  it('given a job start among the attempts, when handled, then it is observed and counted in its window', async () => {
    const fn = aFunction();
    const started = {
      id: 'evt-started',
      source: SIGNAL_SOURCE,
      'detail-type': JOB_STARTED_DETAIL_TYPE,
      time: atSecond(0.5),
      detail: {
        jobId: 'job-9',
        provider: 'fal',
        model: 'wan-i2v',
        dispatchId: 'job-9:v1',
        queueWaitMs: 1200,
        ts: atSecond(0.5),
      },
    };
    await fn.deliver(anSqsEventOf([success(0), started]));
    expect(fn.items[1]).toMatchObject({
      kind: 'handled',
      eventId: 'evt-started',
      response: { outcome: 'observed', provider: 'fal', queueWaitMs: 1200, window: 'counted' },
    });
  });
});

describe('a message that is not a signal', () => {
  const SECRET = 'a corgi surfing at dawn';
  it.each([
    ['not_json', `{"prompt": "${SECRET}"`, []],
    ['not_an_event', JSON.stringify({ prompt: SECRET }), ['source', 'detail-type']],
    ['unsupported_event', JSON.stringify({ ...failure(0), source: 'video.job', note: SECRET }), []],
    [
      'invalid_signal',
      JSON.stringify({ ...failure(0), detail: { ...failure(0).detail, outcome: SECRET } }),
      ['outcome'],
    ],
  ] as const)(
    'given a body rejected as %s, when handled, then it is deleted (not failed), logged by reason and path without its content, and counted',
    async (reason, body, paths) => {
      const fn = aFunction();
      const response = await fn.deliver(anSqsEventOf([failure(0), body], ['good', 'bad']));
      expect(response).toEqual({ batchItemFailures: [] });
      expect(fn.items[1]).toMatchObject({ id: 'bad', kind: 'rejected', reason, paths });
      expect(fn.warn).toHaveBeenCalledWith(
        'health signal refused',
        expect.objectContaining({ messageId: 'bad', reason, paths }),
      );
      expect(JSON.stringify(fn.warn.mock.calls)).not.toContain('corgi');
      expect(fn.single).toHaveBeenCalled();
      expect(fn.items[0]).toMatchObject({ id: 'good', kind: 'handled' });
    },
  );

  it('given the reasons, then each is one of the closed set a dashboard groups by', () => {
    const reasons = ['', '[]', '{}', JSON.stringify({ source: 'x', 'detail-type': 'y' })].map((body) => {
      const read = readSignalMessage(body);
      return read.ok ? null : read.reason;
    });
    expect(reasons).toEqual(['not_json', 'not_an_event', 'not_an_event', 'unsupported_event']);
    for (const reason of reasons) expect(SIGNAL_REJECTIONS).toContain(reason);
  });

  it('given an envelope id that is free text, then the refusal does not carry it', () => {
    const read = readSignalMessage(JSON.stringify({ ...failure(0), id: SECRET, detail: {} }));
    expect(read).toMatchObject({ ok: false, reason: 'invalid_signal', eventId: null });
  });
});
