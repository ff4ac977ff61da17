/**
 * The deployed signal path on the emulators: events put on the stack's bus match the template's
 * HealthSignalsRule, land in HealthSignalsQueue, and are polled into the real HealthSignals handler
 * in batches (as its SQS event source does). The same signals one at a time on another stack give
 * the same breakers and the same closed windows: batching changes how often the tables are written,
 * never what they hold.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import type { WindowPair } from '../../src/ports/signal-windows.ts';
import { closesAtOf, WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
import { ATTEMPT_DETAIL_TYPE, SIGNAL_SOURCE } from '../../src/provider-health/signals.ts';
import { anSqsEventOf, aSignalFunction } from '../support/health-signals.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import {
  aQueueConsumer,
  breakerOf,
  type Clock,
  closedWindow,
  depsOf,
  queueDepth,
} from '../support/signal-queue-consumer.ts';
import { aProvisionedStack } from '../support/stack.ts';

quietHandlerTelemetry();

const FAL: WindowPair = { provider: 'fal', model: 'wan-i2v' };
const REPLICATE: WindowPair = { provider: 'replicate', model: 'wan-2.1-i2v' };
/** A window well in the past of the clock the handlers are given, yet recent for TTLs. */
const T = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 10 * WINDOW_MS;

/** An attempt report as a consumer puts it on the bus, `ms` after T. */
function anAttempt(pair: WindowPair, n: number, failed: boolean, ms: number) {
  const jobId = `${pair.provider}-q-${n}`;
  return {
    Source: SIGNAL_SOURCE,
    DetailType: ATTEMPT_DETAIL_TYPE,
    Time: new Date(T + ms),
    Detail: JSON.stringify({
      jobId,
      ...pair,
      dispatchId: `${jobId}:v1`,
      outcome: failed ? 'failed_terminal' : 'succeeded',
      errorClass: failed ? 'server_error' : null,
    }),
  };
}

/**
 * fal: 3 successes, then 5 failures in a row (the fast path opens it), in the window at T. Replicate:
 * 7 failures in 12 attempts, never 5 in a row (only the failure-rate rule opens it, once its windows
 * close), in the two windows after. A second apart: an EventBridge event's time has whole seconds.
 */
const WORKLOAD = [
  ...[false, false, false, true, true, true, true, true].map((failed, i) =>
    anAttempt(FAL, i, failed, i * 1000),
  ),
  ...'fsffsfsfsffs'.split('').map((p, i) => anAttempt(REPLICATE, i, p === 'f', WINDOW_MS + i * 1000)),
];

async function putOnBus(stack: LocalStack, entries: readonly ReturnType<typeof anAttempt>[]) {
  for (let i = 0; i < entries.length; i += 10) {
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: entries.slice(i, i + 10).map((e) => ({ ...e, EventBusName: stack.eventBusName })),
      }),
    );
    expect(FailedEntryCount).toBe(0);
  }
}

let batched: LocalStack;
let oneByOne: LocalStack;
let events: EventBridgeClient;
let sqs: SQSClient;

beforeAll(async () => {
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  oneByOne = await aProvisionedStack();
  batched = await aProvisionedStack();
  events = new EventBridgeClient({});
  sqs = new SQSClient({});
});
afterAll(() => {
  events?.destroy();
  sqs?.destroy();
});

describe('provider signals through HealthSignalsRule → HealthSignalsQueue → HealthSignals (emulators)', () => {
  it('given signals put on the bus, when the queue is polled in batches, then the breakers and closed windows are exactly those of the same signals one at a time', async () => {
    const clock: Clock = { now: T + 1_000 };
    const consumer = aQueueConsumer(batched, clock);
    const single = aSignalFunction(
      depsOf(oneByOne, clock),
      createTelemetry('health-signals', oneByOne.stage),
    );

    await putOnBus(batched, WORKLOAD);
    expect(await consumer.source.drain()).toBe(WORKLOAD.length);
    // The rule delivered every event, and the poller assembled batches of more than one receive.
    expect(consumer.items.map((item) => item.kind)).toEqual(Array(WORKLOAD.length).fill('handled'));
    expect(Math.max(...consumer.batches.map((b) => b.length))).toBeGreaterThan(10);
    // The same envelopes, in the same order, one invocation each.
    for (const body of consumer.batches.flat()) await single(JSON.parse(body));

    // Later (the workload's windows due: end + grace + settle): a signal of each pair in a window
    // still admitting lets the workload's windows close and be judged.
    clock.now = T + 8 * WINDOW_MS;
    expect(clock.now).toBeGreaterThanOrEqual(closesAtOf(T + 2 * WINDOW_MS));
    const later = [
      anAttempt(FAL, 100, false, 7 * WINDOW_MS),
      anAttempt(REPLICATE, 100, false, 7 * WINDOW_MS),
    ];
    await putOnBus(batched, later);
    await consumer.source.drain();
    for (const body of consumer.batches.slice(-1).flat()) await single(JSON.parse(body));

    const falBatched = await breakerOf(batched, FAL);
    expect(falBatched).toMatchObject({ status: 'open', reason: 'consecutive_failures' });
    expect(await breakerOf(oneByOne, FAL)).toEqual(falBatched);
    const replicateBatched = await breakerOf(batched, REPLICATE);
    expect(replicateBatched).toMatchObject({
      status: 'open',
      reason: 'failure_rate',
      judged: T + 2 * WINDOW_MS,
    });
    expect(await breakerOf(oneByOne, REPLICATE)).toEqual(replicateBatched);

    const windows = [
      [FAL, T, 8],
      [REPLICATE, T + WINDOW_MS, 10],
      [REPLICATE, T + 2 * WINDOW_MS, 2],
    ] as const;
    for (const [pair, start, n] of windows) {
      const window = await closedWindow(batched, pair, start);
      expect(window?.counts.n).toBe(n);
      expect(await closedWindow(oneByOne, pair, start)).toEqual(window);
    }
    expect(await queueDepth(sqs, batched.queues.healthSignals)).toBe(0);
  });

  it('given the deployed entry (src/lambda/health-signals.ts), when an SQS batch of five failures arrives, then no message fails and the breaker opens', async () => {
    // The entry wires itself from process.env at import: the last provisioned stack's environment.
    const { handler } = await import('../../src/lambda/health-signals.ts');
    const pair = { provider: 'fal', model: `e${Date.now().toString(36)}` };
    const bodies = [0, 1, 2, 3, 4].map((n) => ({
      version: '0',
      id: `entry-${pair.model}-${n}`,
      source: SIGNAL_SOURCE,
      'detail-type': ATTEMPT_DETAIL_TYPE,
      time: new Date(T + n * 1000).toISOString(),
      detail: {
        jobId: `${pair.model}-${n}`,
        ...pair,
        dispatchId: `${pair.model}-${n}:v1`,
        outcome: 'failed_terminal',
        errorClass: 'timeout',
      },
    }));
    expect(await handler(anSqsEventOf(bodies) as never, aLocalLambdaContext())).toEqual({
      batchItemFailures: [],
    });
    expect(await breakerOf(batched, pair)).toMatchObject({ status: 'open', reason: 'consecutive_failures' });
  });

  it('given a body that is not a signal among signals, when polled, then it is refused and deleted and its neighbours are handled', async () => {
    const clock: Clock = { now: T + 1_000 };
    const consumer = aQueueConsumer(batched, clock);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: batched.queues.healthSignals, MessageBody: 'not an event' }),
    );
    await putOnBus(batched, [anAttempt({ provider: 'fal', model: null }, 200, false, 2_000)]);
    await consumer.source.drain();
    expect(consumer.items.map((item) => item.kind).sort()).toEqual(['handled', 'rejected']);
    expect(consumer.items.find((item) => item.kind === 'rejected')).toMatchObject({ reason: 'not_json' });
    expect(await queueDepth(sqs, batched.queues.healthSignals)).toBe(0);
  });
});
