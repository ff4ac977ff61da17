/**
 * The batch APIs' limits, by count and by bytes, each stated once: what `chunksWithin` and
 * `sendWithPartialRetry` are given wherever the Routing Manager calls these APIs (the projector's
 * dispatch and announcements, `routing-manager submit`), and the largest transaction the health
 * store may write.
 */
import { utf8Bytes } from './chunks.ts';
import type { BatchLimits } from './partial-retry.ts';

/** EventBridge PutEvents: at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** The total entry size of one PutEvents call must stay under 256 KB (and so must every entry). */
export const PUT_EVENTS_MAX_BYTES = 262_144;

export const PUT_EVENTS_LIMITS: BatchLimits = {
  maxEntries: PUT_EVENTS_MAX_ENTRIES,
  maxBatchBytes: PUT_EVENTS_MAX_BYTES,
  maxEntryBytes: PUT_EVENTS_MAX_BYTES,
};

/**
 * An entry's size as EventBridge computes it: the UTF-8 bytes of Source, DetailType and Detail (plus
 * 14 for Time and each Resources entry, which these entries do not set).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const putEventsEntryBytes = (entry: {
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
}): number => utf8Bytes(entry.source) + utf8Bytes(entry.detailType) + utf8Bytes(entry.detail);

/** SQS SendMessageBatch: at most 10 entries per call. */
export const SQS_BATCH_LIMIT = 10;
/** SendMessageBatch: the sum of the messages' sizes in one call (1 MiB since August 2025). */
export const SQS_BATCH_MAX_BYTES = 1_048_576;

/** SendMessageBatch to a queue whose MaximumMessageSize is `maxMessageBytes`. */
export const sqsBatchLimits = (maxMessageBytes: number): BatchLimits => ({
  maxEntries: SQS_BATCH_LIMIT,
  maxBatchBytes: SQS_BATCH_MAX_BYTES,
  maxEntryBytes: maxMessageBytes,
});

/**
 * DynamoDB TransactWriteItems: at most 100 actions per call (and 4 MB in all; the health store's
 * items are well under 1 KB each, so the count binds first).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
export const TRANSACT_WRITE_MAX_ITEMS = 100;
