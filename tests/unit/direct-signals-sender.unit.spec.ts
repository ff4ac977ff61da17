/**
 * The invoker's direct sender (examples/direct-signals/signal-sender.ts, docs/EVENT_SCHEMA.md): the
 * calls it makes (10 entries and 256 KiB of bodies at most), the bodies (the events' JSON, read by
 * the HealthSignals function as it reads the bus's), and its retries: only the failed entries, the
 * same entry Id and body, never one SQS refused for the sender's own fault.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_BATCH_BYTES,
  MAX_BODY_BYTES,
  messageBody,
  type SignalEvent,
  sendSignals,
} from '../../examples/direct-signals/signal-sender.ts';
import { readSignalMessage } from '../../src/handlers/signal-messages.ts';
import { anAttemptEvent } from '../support/health-signals.ts';

const sqs = mockClient(SQSClient);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/RoutingHealthSignals-test';
const noWait = { backoffMs: () => 0 };

const aSignal = (n: number, extra: Record<string, unknown> = {}): SignalEvent =>
  anAttemptEvent(
    { jobId: `job-${n}`, dispatchId: `job-${n}:v1`, attemptId: `job-${n}:v1#1`, ...extra },
    { id: `attempt-job-${n}:v1#1`, seconds: n },
  ) as SignalEvent;

/** Every entry of a call accepted, as SQS answers. */
const acceptAll = (input: { Entries?: { Id?: string }[] }) => ({
  Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
  Failed: [],
});

const calls = () => sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);

beforeEach(() => {
  sqs.reset();
});

describe('sending provider signals straight to HealthSignalsQueue', () => {
  it('given 23 signals, when sent, then they go in calls of at most 10 whose bodies are the events’ JSON, each read by the HealthSignals function as a signal', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const signals = Array.from({ length: 23 }, (_, n) => aSignal(n));
    const results = await sendSignals(new SQSClient({}), QUEUE, signals, noWait);
    expect(calls().map((input) => input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls().every((input) => input.QueueUrl === QUEUE)).toBe(true);
    const bodies = calls().flatMap((input) => (input.Entries ?? []).map((e) => e.MessageBody as string));
    expect(bodies.map((body) => JSON.parse(body))).toEqual(signals);
    for (const body of bodies) expect(readSignalMessage(body)).toMatchObject({ ok: true });
    expect(results.map((r) => r.status)).toEqual(signals.map(() => 'sent'));
    expect(results[22]).toMatchObject({
      index: 22,
      id: 'attempt-job-22:v1#1',
      messageId: 'm-22',
      attempts: 1,
    });
  });

  it('given signals of about 60 KB each, when sent, then no call’s bodies exceed 256 KiB together (four a call), and a body over 256 KiB is refused unsent', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const large = (n: number, bytes: number) => aSignal(n, { note: 'x'.repeat(bytes) });
    const signals = [...Array.from({ length: 9 }, (_, n) => large(n, 60_000)), large(9, MAX_BODY_BYTES)];
    const results = await sendSignals(new SQSClient({}), QUEUE, signals, noWait);
    const sizes = calls().map((input) =>
      (input.Entries ?? []).reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody as string), 0),
    );
    expect(calls().map((input) => input.Entries?.length)).toEqual([4, 4, 1]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(results[9]).toMatchObject({
      status: 'failed',
      code: 'BodyTooLarge',
      retryable: false,
      attempts: 0,
    });
    expect(results.slice(0, 9).every((r) => r.status === 'sent')).toBe(true);
  });

  it('given a call whose answer fails one entry for the service and one for the sender, when sent, then only the first is sent again — the same entry Id and body — and the second is reported, not retried', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [
          { Id: '0', MessageId: 'm-0', MD5OfMessageBody: '' },
          { Id: '3', MessageId: 'm-3', MD5OfMessageBody: '' },
        ],
        Failed: [
          { Id: '1', Code: 'InternalError', SenderFault: false },
          { Id: '2', Code: 'InvalidMessageContents', SenderFault: true },
        ],
      })
      .callsFake(acceptAll);
    const signals = [0, 1, 2, 3].map((n) => aSignal(n));
    const results = await sendSignals(new SQSClient({}), QUEUE, signals, noWait);
    const [first, second] = calls();
    expect(second?.Entries).toEqual([{ Id: '1', MessageBody: first?.Entries?.[1]?.MessageBody }]);
    expect(calls()).toHaveLength(2);
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 2],
      ['failed', 1],
      ['sent', 1],
    ]);
    expect(results[2]).toMatchObject({ code: 'InvalidMessageContents', retryable: false });
  });

  it('given calls throttled or unanswered every time, when sent, then each round sends the same entries again and after the last round they are reported retryable', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestThrottled', $fault: 'client' }));
    const results = await sendSignals(new SQSClient({}), QUEUE, [aSignal(0), aSignal(1)], {
      ...noWait,
      maxAttempts: 3,
    });
    expect(calls()).toHaveLength(3);
    expect(new Set(calls().map((input) => JSON.stringify(input.Entries))).size).toBe(1);
    expect(results).toEqual([
      expect.objectContaining({ status: 'failed', code: 'RequestThrottled', retryable: true, attempts: 3 }),
      expect.objectContaining({ status: 'failed', code: 'RequestThrottled', retryable: true, attempts: 3 }),
    ]);
  });

  it('given a call refused for the sender (no permission on the queue), when sent, then nothing is sent again and every entry says why', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $fault: 'client' }));
    const results = await sendSignals(new SQSClient({}), QUEUE, [aSignal(0)], noWait);
    expect(calls()).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'failed', code: 'AccessDenied', retryable: false });
  });

  it('given an event of another source or without an id, when sent, then it is refused before any call, and its neighbours go', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const results = await sendSignals(
      new SQSClient({}),
      QUEUE,
      [{ ...aSignal(0), source: 'frontend.api' }, { ...aSignal(1), id: '' }, 'text', aSignal(3)],
      noWait,
    );
    expect(results.map((r) => (r.status === 'failed' ? r.code : r.status))).toEqual([
      'NotAProviderSignal',
      'NotAProviderSignal',
      'NotAProviderSignal',
      'sent',
    ]);
    expect(calls().map((input) => input.Entries?.map((e) => e.Id))).toEqual([['3']]);
  });

  it('given text holding U+FFFE or U+FFFF (which SQS refuses in a body), when the body is made, then they are JSON escapes of the same value', () => {
    const event = aSignal(0, { note: 'a\uFFFEb\uFFFF' });
    const body = messageBody(event);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body)).toEqual(event);
  });
});
