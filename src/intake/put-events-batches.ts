/**
 * Batches for PutEvents within both of its limits: at most 10 entries per call, and at most 256 KB
 * (262,144 bytes) per call, counted the way EventBridge counts an entry: the UTF-8 bytes of Source,
 * DetailType and Detail (plus 14 for a Time and each Resource, which these entries do not carry).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 *
 * Pure: an entry too large to send on its own is set aside, never sent, so it cannot fail the
 * batch it would have shared.
 */
import {
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
  putEventsEntryBytes,
} from '../batching/aws-batch-limits.ts';
import { chunksWithin } from '../batching/chunks.ts';

export interface SizedEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
}

export interface PutEventsBatches<E> {
  /** In input order; each within both limits. */
  readonly batches: E[][];
  /** Entries larger than a whole call allows, with their size. */
  readonly tooLarge: { readonly entry: E; readonly bytes: number }[];
}

export function putEventsBatches<E extends SizedEntry>(entries: readonly E[]): PutEventsBatches<E> {
  const fitting: E[] = [];
  const tooLarge: { entry: E; bytes: number }[] = [];
  for (const entry of entries) {
    const bytes = putEventsEntryBytes(entry);
    if (bytes > PUT_EVENTS_MAX_BYTES) tooLarge.push({ entry, bytes });
    else fitting.push(entry);
  }
  return {
    batches: chunksWithin(fitting, PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_BYTES, putEventsEntryBytes),
    tooLarge,
  };
}
