/**
 * The local stand-in for the Holds function's SQS event source mapping: receives HoldQueue
 * messages, hands them to the REAL Holds handler as an SQSEvent, and deletes those it did not
 * report as failed (a failed one becomes visible again, as on AWS, and goes to the DLQ after the
 * queue's maxReceiveCount). `drain()` takes what is visible now (a `recheck` delayed by the bounded
 * wait is not, yet); `run()` long-polls until aborted (the live stack).
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type HoldsInvoke = (event: SQSEvent) => Promise<SQSBatchResponse>;

const RECEIVE_RETRY_MS = 1000;

export class HoldBacklogPoller {
  readonly #sqs = new SQSClient({});
  readonly #queueUrl: string;
  readonly #invoke: HoldsInvoke;

  constructor(queueUrl: string, invoke: HoldsInvoke) {
    this.#queueUrl = queueUrl;
    this.#invoke = invoke;
  }

  /** Handles every message visible now, until a receive comes back empty; resolves to their count. */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const received = await this.receiveOnce(0);
      if (received === 0) return handled;
      handled += received;
    }
  }

  /** Long-polls until `signal` aborts; `report` is told about failed receives. */
  async run(signal: AbortSignal, report: (line: string) => void, waitSeconds = 20): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.receiveOnce(waitSeconds, signal);
      } catch (error) {
        if (signal.aborted) break;
        report(`holds: ReceiveMessage failed (${error instanceof Error ? error.name : 'unknown'}); retrying`);
        await delay(RECEIVE_RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  async receiveOnce(waitSeconds: number, signal?: AbortSignal): Promise<number> {
    const { Messages = [] } = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (Messages.length === 0) return 0;
    const { batchItemFailures = [] } = await this.#invoke({ Records: Messages.map(sqsRecordOf) });
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = Messages.filter((message) => !failed.has(message.MessageId as string));
    if (done.length > 0) {
      await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle as string,
          })),
        }),
      );
    }
    return Messages.length;
  }

  destroy(): void {
    this.#sqs.destroy();
  }
}

/** A received message as Lambda's SQS event source delivers it (the fields the handler reads). */
function sqsRecordOf(message: Message): SQSRecord {
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: '',
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
  };
}
