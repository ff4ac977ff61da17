/**
 * Provider queues on SQS: one SendMessageBatch per call. On a FIFO queue (URL ending in `.fifo`)
 * the dispatch id is the MessageDeduplicationId — SQS drops a resend within its 5-minute window —
 * and the jobId the MessageGroupId (per-job order, jobs in parallel). On every queue the dispatch
 * id is also a message attribute, for consumers that dedupe beyond that window.
 */
import { createHash } from 'node:crypto';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EntryFailure } from '../batching/partial-retry.ts';
import type { ProviderQueues, QueueMessage } from '../ports/provider-queues.ts';
import { messageAttributesOf } from '../projections/dispatch.ts';

/** SQS limits MessageDeduplicationId to 128 characters. */
const MAX_DEDUPLICATION_ID = 128;

/** The dispatch id itself when it fits, else its sha256 (deterministic, so dedupe still holds). */
export const deduplicationIdOf = (dispatchId: string): string =>
  dispatchId.length <= MAX_DEDUPLICATION_ID
    ? dispatchId
    : createHash('sha256').update(dispatchId).digest('hex');

export const isFifoQueue = (queueUrl: string): boolean => queueUrl.endsWith('.fifo');

export class SqsProviderQueues implements ProviderQueues {
  readonly #client: SQSClient;

  constructor(client: SQSClient) {
    this.#client = client;
  }

  async sendBatch(
    queueUrl: string,
    messages: readonly QueueMessage[],
  ): Promise<ReadonlyMap<string, EntryFailure>> {
    const fifo = isFifoQueue(queueUrl);
    const entries = messages.map(
      (message): SendMessageBatchRequestEntry => ({
        Id: message.id,
        MessageBody: message.body,
        MessageAttributes: messageAttributesOf(message),
        ...(fifo
          ? { MessageGroupId: message.jobId, MessageDeduplicationId: deduplicationIdOf(message.dispatchId) }
          : {}),
      }),
    );
    const output = await this.#client.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    const failures = new Map<string, EntryFailure>();
    for (const failed of output.Failed ?? []) {
      failures.set(failed.Id as string, {
        code: failed.Code ?? 'Unknown',
        message: failed.Message ?? '',
        // A sender fault (bad entry) fails again the same way; anything else is worth a resend.
        retryable: failed.SenderFault !== true,
      });
    }
    return failures;
  }
}
