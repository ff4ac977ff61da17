/** Reading back what the pipeline left on the queues, without consuming it. */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { announcementOf, peekQueue, type QueuedMessage } from '../../src/local/read-back.ts';

const QUEUE = 'http://127.0.0.1:5000/000000000000/FalJobQueue-local';
const sqsMock = mockClient(SQSClient);
afterEach(() => sqsMock.reset());

function aMessage(index: number, overrides: Partial<Message> = {}): Message {
  return {
    MessageId: `m-${index}`,
    ReceiptHandle: `rh-${index}`,
    Body: JSON.stringify({ jobId: `job-${index}` }),
    ...overrides,
  };
}

/** The queue answers these pages of messages, then nothing. */
function aQueueHolding(...pages: Message[][]) {
  const receive = sqsMock.on(ReceiveMessageCommand);
  for (const page of pages) receive.resolvesOnce({ Messages: page });
  receive.resolves({});
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
}

describe('peeking at a queue', () => {
  it('given messages over several receives, when peeked, then all are returned and every one is made visible again', async () => {
    const first = Array.from({ length: 10 }, (_, i) => aMessage(i));
    const second = [aMessage(10), aMessage(11)];
    aQueueHolding(first, second);
    const seen = await peekQueue(new SQSClient({}), QUEUE);
    expect(seen.map((message) => message.body.jobId)).toEqual(
      Array.from({ length: 12 }, (_, i) => `job-${i}`),
    );
    const released = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((call) => call.args[0].input.Entries ?? []);
    expect(released.map((entries) => entries.length)).toEqual([10, 2]);
    expect(released.flat().every((entry) => entry.VisibilityTimeout === 0)).toBe(true);
    expect(released.flat().map((entry) => entry.ReceiptHandle)).toEqual(
      Array.from({ length: 12 }, (_, i) => `rh-${i}`),
    );
  });

  it('given an empty queue, when peeked, then nothing is returned and nothing released', async () => {
    aQueueHolding();
    expect(await peekQueue(new SQSClient({}), QUEUE)).toEqual([]);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
  });

  it.each([
    ['not JSON', 'plain text'],
    ['JSON but not an object', '42'],
    ['JSON null', 'null'],
    ['absent', undefined],
  ])('given a body that is %s, when peeked, then its body reads as empty', async (_, body) => {
    aQueueHolding([aMessage(1, { Body: body })]);
    const [message] = await peekQueue(new SQSClient({}), QUEUE);
    expect(message?.body).toEqual({});
  });

  it('given message attributes, when peeked, then string values are kept and binary ones read as empty', async () => {
    aQueueHolding([
      aMessage(1, {
        MessageAttributes: {
          dispatchId: { DataType: 'String', StringValue: 'job-1:v1' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1]) },
        },
      }),
    ]);
    const [message] = await peekQueue(new SQSClient({}), QUEUE);
    expect(message?.attributes).toEqual({ dispatchId: 'job-1:v1', blob: '' });
  });
});

describe('captured announcements', () => {
  const captured = (body: Record<string, unknown>): QueuedMessage => ({
    messageId: 'm',
    body,
    attributes: {},
  });

  it('given an EventBridge event with an announcement id, when read, then its type, id and job come out', () => {
    expect(
      announcementOf(
        captured({ 'detail-type': 'video.job.routed', detail: { announcementId: 'job#j1:v1', jobId: 'j1' } }),
      ),
    ).toEqual({
      detailType: 'video.job.routed',
      announcementId: 'job#j1:v1',
      jobId: 'j1',
      detail: { announcementId: 'job#j1:v1', jobId: 'j1' },
    });
  });

  it('given an announcement without a job id, when read, then the job is null', () => {
    expect(
      announcementOf(
        captured({ 'detail-type': 'video.job.rejected', detail: { announcementId: 'event#e1:v1' } }),
      ),
    ).toMatchObject({ announcementId: 'event#e1:v1', jobId: null });
  });

  it.each([
    ['no detail', {}],
    ['a detail without an announcement id', { detail: { jobId: 'j1' } }],
    ['a non-string announcement id', { detail: { announcementId: 7 } }],
  ])('given a message with %s, when read, then it is not an announcement', (_, body) => {
    expect(announcementOf(captured(body))).toBeNull();
  });
});
