/**
 * What the projector put on the provider queues, recorded as SQS accepted it: the local runner's
 * read-back of the provider queues. Receiving the queues instead (even to make the messages visible
 * again at once) would raise every message's `ApproximateReceiveCount`, and a real consumer of the
 * live stack would then see its first receive counted as the second — one step closer to the
 * 5-receive DLQ. The capture queue of announcements is the runner's own and is still read back.
 */
import type { EntryFailure } from '../batching/partial-retry.ts';
import type { ProviderQueues, QueueMessage } from '../ports/provider-queues.ts';
import type { QueuedMessage } from './read-back.ts';

export class RecordingProviderQueues implements ProviderQueues {
  readonly #inner: ProviderQueues;
  /** Accepted messages per queue URL, in send order; a resend of one dispatch is kept once. */
  readonly #sent = new Map<string, Map<string, QueuedMessage>>();

  constructor(inner: ProviderQueues) {
    this.#inner = inner;
  }

  async sendBatch(
    queueUrl: string,
    messages: readonly QueueMessage[],
  ): Promise<ReadonlyMap<string, EntryFailure>> {
    const failures = await this.#inner.sendBatch(queueUrl, messages);
    const onQueue = this.#sent.get(queueUrl) ?? new Map<string, QueuedMessage>();
    this.#sent.set(queueUrl, onQueue);
    for (const message of messages) {
      if (failures.has(message.id)) continue;
      onQueue.set(message.dispatchId, {
        messageId: message.dispatchId,
        body: JSON.parse(message.body) as Record<string, unknown>,
        attributes: {
          dispatchId: message.dispatchId,
          jobId: message.jobId,
          provider: message.provider,
          routingVersion: String(message.routingVersion),
        },
      });
    }
    return failures;
  }

  /** The messages SQS accepted for this queue, oldest first. */
  sentTo(queueUrl: string): QueuedMessage[] {
    return [...(this.#sent.get(queueUrl)?.values() ?? [])];
  }
}
