/**
 * The direct path for provider signals on the emulators: an invoker sends its signals straight to
 * HealthSignalsQueue with SendMessageBatch (examples/direct-signals/signal-sender.ts, the code
 * docs/EVENT_SCHEMA.md shows), each body the event JSON HealthSignalsRule would deliver. The real
 * HealthSignals handler, polled as its event source does, makes of them exactly what it makes of the
 * same signals put on the bus (another stack): the same breakers, the same closed windows, each
 * signal's same outcome; a resend counts once; a body that is not a provider.invoker signal is
 * refused with its reason and deleted, never failing its neighbours.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type SignalEvent, sendSignals } from '../../examples/direct-signals/signal-sender.ts';
import type { SignalItemResult } from '../../src/handlers/health-signals.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import type { WindowPair } from '../../src/ports/signal-windows.ts';
import { closesAtOf, WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
import {
  ATTEMPT_DETAIL_TYPE,
  JOB_STARTED_DETAIL_TYPE,
  SIGNAL_SOURCE,
} from '../../src/provider-health/signals.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import {
  aQueueConsumer,
  breakerOf,
  type Clock,
  closedWindow,
  queueDepth,
} from '../support/signal-queue-consumer.ts';
import { aProvisionedStack } from '../support/stack.ts';

quietHandlerTelemetry();

const FAL: WindowPair = { provider: 'fal', model: 'wan-i2v' };
const REPLICATE: WindowPair = { provider: 'replicate', model: 'wan-2.1-i2v' };
/** A window well in the past of the clock the handlers are given, yet recent for TTLs. */
const T = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 10 * WINDOW_MS;

interface Signal {
  readonly detailType: string;
  /** Event time, ms after T (whole seconds: an EventBridge event's time has no fraction). */
  readonly ms: number;
  readonly detail: Readonly<Record<string, unknown>>;
}

const started = (pair: WindowPair, n: number, ms: number): Signal => ({
  detailType: JOB_STARTED_DETAIL_TYPE,
  ms,
  detail: {
    jobId: `${pair.provider}-d-${n}`,
    ...pair,
    dispatchId: `${pair.provider}-d-${n}:v1`,
    queueWaitMs: 1_000 * (n + 1),
    ts: new Date(T + ms).toISOString(),
  },
});

const attempt = (pair: WindowPair, n: number, failed: boolean, ms: number): Signal => ({
  detailType: ATTEMPT_DETAIL_TYPE,
  ms,
  detail: {
    jobId: `${pair.provider}-d-${n}`,
    ...pair,
    dispatchId: `${pair.provider}-d-${n}:v1`,
    attemptId: `${pair.provider}-d-${n}:v1#1`,
    outcome: failed ? 'failed_terminal' : 'succeeded',
    errorClass: failed ? 'server_error' : null,
    ...(failed ? {} : { runMs: 30_000 + n * 1_000 }),
  },
});

/**
 * fal: 3 jobs start and succeed, then 5 fail in a row (the fast path opens its breaker), in the window
 * at T. Replicate: 7 failures in 12 attempts, never 5 in a row (only the failure-rate rule opens it,
 * once its windows close), in the two windows after.
 */
const WORKLOAD: readonly Signal[] = [
  ...[0, 1, 2].map((n) => started(FAL, n, n * 1000)),
  ...[false, false, false, true, true, true, true, true].map((failed, n) =>
    attempt(FAL, n, failed, 2_000 + n * 1000),
  ),
  ...'fsffsfsfsffs'.split('').map((p, n) => attempt(REPLICATE, n, p === 'f', WINDOW_MS + n * 1000)),
];
/** A signal of each pair in a later window (still admitting), so the first windows close and are judged. */
const LATER: readonly Signal[] = [
  attempt(FAL, 100, false, 7 * WINDOW_MS),
  attempt(REPLICATE, 100, false, 7 * WINDOW_MS),
];

/** What HealthSignalsRule delivers, and so what the invoker sends: the EventBridge event's JSON. */
const eventOf = (signal: Signal): SignalEvent => ({
  version: '0',
  // Stable, from the signal's facts: the same body on every resend.
  id: `${signal.detailType === JOB_STARTED_DETAIL_TYPE ? 'started' : 'attempt'}-${signal.detail.dispatchId as string}`,
  'detail-type': signal.detailType,
  source: SIGNAL_SOURCE,
  account: '123456789012',
  time: new Date(T + signal.ms).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: 'us-east-1',
  resources: [],
  detail: signal.detail,
});

async function putOnBus(stack: LocalStack, signals: readonly Signal[]) {
  for (let i = 0; i < signals.length; i += 10) {
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: signals.slice(i, i + 10).map((s) => ({
          EventBusName: stack.eventBusName,
          Source: SIGNAL_SOURCE,
          DetailType: s.detailType,
          Time: new Date(T + s.ms),
          Detail: JSON.stringify(s.detail),
        })),
      }),
    );
    expect(FailedEntryCount).toBe(0);
  }
}

async function sendDirect(stack: LocalStack, signals: readonly Signal[]) {
  const results = await sendSignals(sqs, stack.queues.healthSignals, signals.map(eventOf));
  expect(results.map((r) => r.status)).toEqual(signals.map(() => 'sent'));
  return results;
}

/** Each signal's outcome, by the pair and dispatch it names (the two paths' message ids differ). */
const outcomes = (items: readonly SignalItemResult[]) =>
  items
    .map((item) => (item.kind === 'handled' ? item.response.outcome : item.kind))
    .sort()
    .join(',');

let viaBus: LocalStack;
let direct: LocalStack;
let events: EventBridgeClient;
let sqs: SQSClient;

beforeAll(async () => {
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  viaBus = await aProvisionedStack();
  direct = await aProvisionedStack();
  events = new EventBridgeClient({});
  sqs = new SQSClient({});
});
afterAll(() => {
  events?.destroy();
  sqs?.destroy();
});

describe('provider signals sent straight to HealthSignalsQueue (SendMessageBatch) beside the bus (emulators)', () => {
  it('given the same signals put on the bus of one stack and sent directly to the queue of another, with fal’s failures sent twice, when both queues are polled in batches, then the breakers, the closed windows and every signal’s outcome are the same', async () => {
    const clock: Clock = { now: T + 1_000 };
    const bus = aQueueConsumer(viaBus, clock);
    const straight = aQueueConsumer(direct, clock);

    await putOnBus(viaBus, WORKLOAD);
    expect(await bus.source.drain()).toBe(WORKLOAD.length);
    const sent = await sendDirect(direct, WORKLOAD);
    // One message per signal, in calls of at most 10: SQS's own message ids, all distinct.
    expect(new Set(sent.map((r) => (r.status === 'sent' ? r.messageId : ''))).size).toBe(WORKLOAD.length);
    expect(await straight.source.drain()).toBe(WORKLOAD.length);
    expect(outcomes(straight.items)).toBe(outcomes(bus.items));
    expect(straight.items.every((item) => item.kind === 'handled')).toBe(true);
    // The bodies are the events as sent: the function read the invoker's own ids.
    expect(straight.items.map((item) => item.eventId).sort()).toEqual(
      WORKLOAD.map((s) => eventOf(s).id).sort(),
    );

    // A resend of fal's failures (an invoker that lost the answer): the same bodies change nothing —
    // the breaker is open (a failure while open is read, never written) and each is already a fact
    // of its window, counted once when the window closes (the windows below equal the bus's).
    const resent = WORKLOAD.filter(
      (s) => s.detail.provider === 'fal' && s.detail.outcome === 'failed_terminal',
    );
    straight.items.length = 0;
    await sendDirect(direct, resent);
    expect(await straight.source.drain()).toBe(resent.length);
    for (const item of straight.items) {
      expect(item.kind === 'handled' ? item.response.outcome : item.kind).toMatch(/^(duplicate|unchanged)$/);
    }

    // The first windows are due (end + grace + settle).
    clock.now = T + 8 * WINDOW_MS;
    expect(clock.now).toBeGreaterThanOrEqual(closesAtOf(T + 2 * WINDOW_MS));
    await putOnBus(viaBus, LATER);
    await bus.source.drain();
    await sendDirect(direct, LATER);
    await straight.source.drain();

    const falDirect = await breakerOf(direct, FAL);
    expect(falDirect).toMatchObject({ status: 'open', reason: 'consecutive_failures' });
    expect(await breakerOf(viaBus, FAL)).toEqual(falDirect);
    const replicateDirect = await breakerOf(direct, REPLICATE);
    expect(replicateDirect).toMatchObject({ status: 'open', reason: 'failure_rate' });
    expect(await breakerOf(viaBus, REPLICATE)).toEqual(replicateDirect);
    const windows = [
      [FAL, T, 11],
      [REPLICATE, T + WINDOW_MS, 10],
      [REPLICATE, T + 2 * WINDOW_MS, 2],
    ] as const;
    for (const [pair, start, n] of windows) {
      const window = await closedWindow(direct, pair, start);
      expect(window?.counts.n).toBe(n);
      expect(await closedWindow(viaBus, pair, start)).toEqual(window);
    }
    expect(await queueDepth(sqs, direct.queues.healthSignals)).toBe(0);
  });

  it('given a direct batch holding bodies that are not provider.invoker signals among a good one, when polled, then each is refused with its reason and deleted, and its neighbour is handled', async () => {
    const clock: Clock = { now: T + 1_000 };
    const consumer = aQueueConsumer(direct, clock);
    const good = eventOf(attempt({ provider: 'fal', model: null }, 300, false, 2_000));
    const bodies = {
      good: JSON.stringify(good),
      otherSource: JSON.stringify({ ...good, id: 'other-source', source: 'frontend.api' }),
      otherType: JSON.stringify({ ...good, id: 'other-type', 'detail-type': 'provider.job.finished' }),
      noDispatch: JSON.stringify({
        ...good,
        id: 'no-dispatch',
        detail: { ...good.detail, dispatchId: undefined },
      }),
      notAnEvent: JSON.stringify(['provider.invoker']),
    };
    // A misbehaving sender's raw batch: nothing but the queue policy stands between it and the queue.
    const { Successful = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: direct.queues.healthSignals,
        Entries: Object.entries(bodies).map(([Id, MessageBody]) => ({ Id, MessageBody })),
      }),
    );
    expect(Successful).toHaveLength(5);
    expect(await consumer.source.drain()).toBe(5);
    const fate = Object.fromEntries(
      consumer.items.map((item) => [
        item.eventId ?? 'none',
        item.kind === 'rejected' ? item.reason : item.kind,
      ]),
    );
    expect(fate).toEqual({
      [good.id]: 'handled',
      'other-source': 'unsupported_event',
      'other-type': 'unsupported_event',
      'no-dispatch': 'invalid_signal',
      none: 'not_an_event',
    });
    expect(consumer.items.find((item) => item.eventId === 'no-dispatch')).toMatchObject({
      paths: ['dispatchId'],
    });
    expect(await queueDepth(sqs, direct.queues.healthSignals)).toBe(0);
  });
});
