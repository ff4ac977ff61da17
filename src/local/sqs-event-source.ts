/**
 * The local stand-in for a Lambda SQS event source mapping (the Holds function's on HoldQueue, the
 * HealthSignals function's on HealthSignalsQueue): receives a queue's messages, hands them to the
 * REAL handler as one SQSEvent of up to `batchSize` records (several ReceiveMessage calls of at
 * most 10, as the mapping assembles a batch), and deletes those it did not report as failed (a
 * failed one becomes visible again after the queue's visibility timeout, as on AWS, and goes to the
 * DLQ after the queue's maxReceiveCount). `drain()` takes what is visible now (a `recheck` delayed
 * by the bounded wait is not, yet); `run()` long-polls until aborted (the live stack).
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { chunksOf } from '../batching/chunks.ts';

export type SqsBatchInvoke = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface SqsEventSourceOptions {
  /** Named in the report of a failed receive (`holds`, `health-signals`). */
  readonly name: string;
  /** Records per invocation, as the template's event source sets BatchSize (default 10). */
  readonly batchSize?: number;
}

const RECEIVE_RETRY_MS = 1000;
/** ReceiveMessage and DeleteMessageBatch take at most 10 messages a call. */
const SQS_MAX_PER_CALL = 10;

export class SqsEventSource {
  readonly #sqs = new SQSClient({});
  readonly #queueUrl: string;
  readonly #invoke: SqsBatchInvoke;
  readonly #name: string;
  readonly #batchSize: number;

  constructor(queueUrl: string, invoke: SqsBatchInvoke, options: SqsEventSourceOptions) {
    this.#queueUrl = queueUrl;
    this.#invoke = invoke;
    this.#name = options.name;
    this.#batchSize = Math.max(1, options.batchSize ?? SQS_MAX_PER_CALL);
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
        report(
          `${this.#name}: ReceiveMessage failed (${error instanceof Error ? error.name : 'unknown'}); retrying`,
        );
        await delay(RECEIVE_RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** One batch: received (waiting only for its first message), handled, the handled ones deleted. */
  async receiveOnce(waitSeconds: number, signal?: AbortSignal): Promise<number> {
    const messages: Message[] = [];
    while (messages.length < this.#batchSize) {
      const want = Math.min(SQS_MAX_PER_CALL, this.#batchSize - messages.length);
      const { Messages = [] } = await this.#sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#queueUrl,
          MaxNumberOfMessages: want,
          WaitTimeSeconds: messages.length === 0 ? waitSeconds : 0,
        }),
        signal ? { abortSignal: signal } : {},
      );
      messages.push(...Messages);
      if (Messages.length < want) break;
    }
    if (messages.length === 0) return 0;
    const { batchItemFailures = [] } = await this.#invoke({ Records: messages.map(sqsRecordOf) });
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId as string));
    for (const chunk of chunksOf(done, SQS_MAX_PER_CALL)) {
      await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle as string,
          })),
        }),
      );
    }
    return messages.length;
  }

  destroy(): void {
    this.#sqs.destroy();
  }
}

/** A received message as Lambda's SQS event source delivers it (the fields the handlers read). */
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
