/**
 * The provider queues port: one SendMessageBatch call (≤ 10 messages) to one queue; a refused entry
 * comes back by its id, with whether a resend could help. Adapter: src/aws/sqs-provider-queues.ts
 * (tests use a recording fake, tests/support/projector-fakes.ts).
 */
import type { EntryFailure } from '../batching/partial-retry.ts';

export interface QueueMessage {
  /** Entry id, unique within one call. */
  readonly id: string;
  readonly dispatchId: string;
  readonly jobId: string;
  readonly provider: string;
  readonly routingVersion: number;
  readonly body: string;
}

export interface StringAttribute {
  readonly DataType: 'String' | 'Number';
  readonly StringValue: string;
}

export interface ProviderQueues {
  sendBatch(queueUrl: string, messages: readonly QueueMessage[]): Promise<ReadonlyMap<string, EntryFailure>>;
}
