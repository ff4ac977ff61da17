/**
 * The live stack's intake, on mocked SQS: what the real queue rarely does (refused deletes), and the
 * one-line account of each routed event. The emulator run is in tests/integration/live-stack.int.spec.ts.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliveredEventOf, IntakeQueueDrainer } from '../../src/local/live-intake.ts';
import { describeRouting } from '../../src/local/run-local.ts';

const sqs = mockClient(SQSClient);
beforeEach(() => sqs.reset());

const anEvent = (id: string) => JSON.stringify({ id, source: 's', 'detail-type': 'd', detail: {} });

describe('the intake queue drainer on a mocked queue', () => {
  it('given a handled message whose delete is refused, when drained, then the refusal is reported', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolves({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: anEvent('e1') }] });
    sqs
      .on(DeleteMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: '0', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] });
    const lines: string[] = [];
    const drainer = new IntakeQueueDrainer({
      queueUrl: 'http://127.0.0.1:1/123456789012/q',
      sqs: new SQSClient({ region: 'us-east-1' }),
      report: (line) => lines.push(line),
      routes: [
        { name: 'r', source: 's', detailTypes: ['d'], handle: async (event) => `handled ${event.id}` },
      ],
    });
    expect(await drainer.receiveOnce(0)).toBe(1);
    drainer.destroy();
    expect(lines).toEqual([
      'handled e1',
      'intake: could not delete a handled message (ReceiptHandleIsInvalid); it may come again',
    ]);
  });

  it('given only a failing event, when drained, then nothing is deleted', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolves({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: anEvent('e1') }] });
    const drainer = new IntakeQueueDrainer({
      queueUrl: 'http://127.0.0.1:1/123456789012/q',
      sqs: new SQSClient({ region: 'us-east-1' }),
      report: () => undefined,
      routes: [
        {
          name: 'r',
          source: 's',
          detailTypes: ['d'],
          handle: () => Promise.reject('not an Error'),
        },
      ],
    });
    await drainer.receiveOnce(0);
    expect(sqs.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  it.each([
    ['an empty body', undefined],
    ['JSON that is not an object', '[1]'],
    ['an object without an id', JSON.stringify({ source: 's', 'detail-type': 'd' })],
  ])('given %s, then it is not a delivered event', (_, body) => {
    expect(deliveredEventOf(body)).toBeNull();
  });
});

describe('the account of a routed event', () => {
  const response = {
    outcome: 'recorded',
    stream: 'job#j1',
    jobId: 'j1',
    decision: 'routed',
    provider: 'fal',
    reason: null,
  } as const;

  it.each([
    [response, 'event e1: job j1 routed to fal'],
    [{ ...response, outcome: 'duplicate' } as const, 'event e1: job j1 duplicate (already routed to fal)'],
    [
      { ...response, outcome: 'conflicting_duplicate' } as const,
      'event e1: job j1 conflicting duplicate refused',
    ],
    [
      {
        ...response,
        stream: 'event#e1',
        jobId: null,
        decision: 'rejected',
        provider: null,
        reason: 'invalid_request',
      } as const,
      'event e1: stream event#e1 rejected: invalid_request',
    ],
  ])('given %o, then the line reads as expected', (answer, line) => {
    expect(describeRouting('e1', answer)).toBe(line);
  });
});
