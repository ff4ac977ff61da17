/**
 * Dispatch: put each routed job on its provider's queue, in SendMessageBatch calls of at most 10
 * messages grouped per queue. The dispatch id (`<jobId>:v<version>`) travels with every message —
 * as a message attribute, in the body and, on FIFO queues, as the MessageDeduplicationId — so a
 * provider consumer can recognise a redelivered dispatch whatever the queue type.
 */
import type { PlannedDispatch } from './effects.ts';
import {
  DEFAULT_RETRY_POLICY,
  type EntryFailure,
  type EntryResult,
  type RetryPolicy,
  sendWithPartialRetry,
} from './partial-batch-retry.ts';

/** SQS accepts at most 10 entries per SendMessageBatch. */
export const SQS_BATCH_LIMIT = 10;

export interface QueueMessage {
  /** Entry id, unique within one call. */
  readonly id: string;
  readonly dispatchId: string;
  readonly jobId: string;
  readonly provider: string;
  readonly body: string;
}

/** The port in front of SQS: one SendMessageBatch call (≤ 10 messages) to one queue. */
export interface ProviderQueueSender {
  sendBatch(queueUrl: string, messages: readonly QueueMessage[]): Promise<ReadonlyMap<string, EntryFailure>>;
}

export interface DispatchDependencies {
  readonly sender: ProviderQueueSender;
  /** Queue URL per provider id (`fal`, `replicate`). */
  readonly queueUrls: Readonly<Record<string, string>>;
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
    messages.push({
      id: `m${index}`,
      dispatchId: dispatch.dispatchId,
      jobId: dispatch.jobId,
      provider: dispatch.provider,
      body: JSON.stringify(dispatch.body),
    });
  });

  await Promise.all(
    [...byQueue].map(async ([queueUrl, messages]) => {
      const sent = await sendWithPartialRetry(
        messages,
        SQS_BATCH_LIMIT,
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
