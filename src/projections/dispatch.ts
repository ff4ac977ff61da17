/**
 * Dispatch: put each routed job on its provider's queue, in SendMessageBatch calls grouped per
 * queue that respect SQS's limits by count and by bytes (message body + message attributes, as SQS
 * counts them). The dispatch id (`<jobId>:v<version>`) travels with every message — as a message
 * attribute, in the body and, on FIFO queues, as the MessageDeduplicationId — so a provider
 * consumer can recognise a redelivered dispatch whatever the queue type.
 */

import { sqsBatchLimits } from '../batching/aws-batch-limits.ts';
import { utf8Bytes } from '../batching/chunks.ts';
import {
  DEFAULT_RETRY_POLICY,
  type EntryResult,
  type RetryPolicy,
  sendWithPartialRetry,
} from '../batching/partial-retry.ts';
import type { RoutingDecidedRecord } from '../log/routing-records.ts';
import type { ProviderQueues, QueueMessage, StringAttribute } from '../ports/provider-queues.ts';
import { type DispatchMessageBody, dispatchBodyOf, dispatchIdOf, type PlannedDispatch } from './effects.ts';

/**
 * Default of PROVIDER_QUEUE_MAX_MESSAGE_BYTES: the provider queues' MaximumMessageSize. 256 KiB is
 * what every SQS queue accepts whenever it was created (the 1 MiB maximum only applies to queues
 * configured for it), so it is safe for the ecosystem's existing FalJobQueue/ReplicateJobQueue.
 */
export const DEFAULT_QUEUE_MAX_MESSAGE_BYTES = 262_144;

/** The message attributes of a dispatch: its ids, for consumers that read no body to dedupe. */
export function messageAttributesOf(
  message: Omit<QueueMessage, 'id' | 'body'>,
): Record<string, StringAttribute> {
  return {
    dispatchId: { DataType: 'String', StringValue: message.dispatchId },
    jobId: { DataType: 'String', StringValue: message.jobId },
    provider: { DataType: 'String', StringValue: message.provider },
    routingVersion: { DataType: 'Number', StringValue: String(message.routingVersion) },
  };
}

/** A message's size as SQS counts it against MaximumMessageSize: body + attribute names, types, values. */
export function queueMessageBytes(message: Omit<QueueMessage, 'id'>): number {
  let bytes = utf8Bytes(message.body);
  for (const [name, attribute] of Object.entries(messageAttributesOf(message))) {
    bytes += utf8Bytes(name) + utf8Bytes(attribute.DataType) + utf8Bytes(attribute.StringValue);
  }
  return bytes;
}

/** The serialised message of a planned dispatch, exactly as it is sent. */
export function queueMessageOf(dispatch: PlannedDispatch, id: string): QueueMessage {
  return {
    id,
    dispatchId: dispatch.dispatchId,
    jobId: dispatch.jobId,
    provider: dispatch.provider,
    routingVersion: dispatch.body.routingVersion,
    body: serialiseBody(dispatch.body),
  };
}

const serialiseBody = (body: DispatchMessageBody): string => JSON.stringify(body);

/**
 * Room for the longer ids of later projections of the same decision: a replay at version v ≥ 10
 * lengthens `dispatchId`, `routingVersion` and `previousDispatchId` in the body and in the
 * attributes, and `revision` (at most 2) by nothing.
 */
export const VERSION_HEADROOM_BYTES = 64;

/**
 * The size the provider-queue message of a routed decision will have — measured on the exact body
 * and attributes the projector sends, at version 1, plus the headroom for later versions. The
 * router rejects the job (`message_too_large`) when this exceeds the queue's maximum.
 */
export function dispatchMessageBytes(decision: RoutingDecidedRecord): number {
  const version = 1;
  const dispatch: PlannedDispatch = {
    dispatchId: dispatchIdOf(decision.metadata.jobId, version),
    jobId: decision.metadata.jobId,
    provider: decision.data.provider,
    // The longest lineage a later dispatch of the job can carry: the longest kind, and the id of a
    // previous dispatch (whose version digits the headroom covers too).
    body: dispatchBodyOf(decision, version, {
      dispatchKind: 'decision',
      revision: 0,
      previousDispatchId: dispatchIdOf(decision.metadata.jobId, version),
    }),
  };
  return queueMessageBytes(queueMessageOf(dispatch, 'm0')) + VERSION_HEADROOM_BYTES;
}

export interface DispatchDependencies {
  readonly sender: ProviderQueues;
  /** Queue URL per provider id (`fal`, `replicate`). */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** The provider queues' MaximumMessageSize (default DEFAULT_QUEUE_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  readonly retry?: RetryPolicy;
}

export const UNKNOWN_PROVIDER_QUEUE = 'UnknownProviderQueue';

/** Sends every dispatch; the result per dispatch id says whether its message is on its queue. */
export async function dispatchToProviderQueues(
  dispatches: readonly PlannedDispatch[],
  deps: DispatchDependencies,
): Promise<Map<string, EntryResult>> {
  const results = new Map<string, EntryResult>();
  const byQueue = new Map<string, QueueMessage[]>();
  dispatches.forEach((dispatch, index) => {
    const queueUrl = Object.hasOwn(deps.queueUrls, dispatch.provider)
      ? deps.queueUrls[dispatch.provider]
      : undefined;
    if (!queueUrl) {
      // A decision names a provider this deployment has no queue for: a configuration error that
      // a retry will not fix until the configuration is; the record fails and stays visible.
      results.set(dispatch.dispatchId, {
        ok: false,
        code: UNKNOWN_PROVIDER_QUEUE,
        message: `no queue configured for provider "${dispatch.provider}"`,
        retryable: false,
      });
      return;
    }
    const messages = byQueue.get(queueUrl) ?? [];
    byQueue.set(queueUrl, messages);
    messages.push(queueMessageOf(dispatch, `m${index}`));
  });

  await Promise.all(
    [...byQueue].map(async ([queueUrl, messages]) => {
      const sent = await sendWithPartialRetry(
        messages,
        sqsBatchLimits(deps.maxMessageBytes ?? DEFAULT_QUEUE_MAX_MESSAGE_BYTES),
        queueMessageBytes,
        (chunk) => deps.sender.sendBatch(queueUrl, chunk),
        deps.retry ?? DEFAULT_RETRY_POLICY,
      );
      for (const message of messages) {
        results.set(message.dispatchId, sent.get(message.id) as EntryResult);
      }
    }),
  );
  return results;
}
