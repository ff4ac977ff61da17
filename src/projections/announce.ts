/**
 * Announce: publish `video.job.routed` / `video.job.rejected` on the event bus, in PutEvents calls
 * of at most 10 entries and 256 KB of entry size (computed as EventBridge documents it). PutEvents reports refusals per entry (FailedEntryCount): only those
 * entries are resent, so an accepted announcement is never published twice by one invocation.
 * Every detail carries `announcementId` (`<stream>:v<version>:announce`) for consumer dedupe.
 */

import { utf8Bytes } from '../batching/chunks.ts';
import {
  type BatchLimits,
  DEFAULT_RETRY_POLICY,
  type EntryResult,
  type RetryPolicy,
  sendWithPartialRetry,
} from '../batching/partial-retry.ts';
import type { AnnouncementEntry, Announcer } from '../ports/announcer.ts';
import { ANNOUNCEMENT_SOURCE, type PlannedAnnouncement } from './effects.ts';

/** EventBridge accepts at most 10 entries per PutEvents. */
export const PUT_EVENTS_LIMIT = 10;
/** The total entry size of one PutEvents call must stay under 256 KB (and so must every entry). */
export const PUT_EVENTS_MAX_BYTES = 262_144;

export const PUT_EVENTS_LIMITS: BatchLimits = {
  maxEntries: PUT_EVENTS_LIMIT,
  maxBatchBytes: PUT_EVENTS_MAX_BYTES,
  maxEntryBytes: PUT_EVENTS_MAX_BYTES,
};

/**
 * An entry's size as EventBridge computes it: the UTF-8 bytes of Source, DetailType and Detail (plus
 * 14 for Time and each Resources entry, which announcements do not set).
 */
export const announcementEntryBytes = (entry: AnnouncementEntry): number =>
  utf8Bytes(entry.source) + utf8Bytes(entry.detailType) + utf8Bytes(entry.detail);

export interface AnnounceDependencies {
  readonly publisher: Announcer;
  readonly retry?: RetryPolicy;
}

/** Publishes every announcement; the result per announcementId says whether the bus accepted it. */
export async function announceDecisions(
  announcements: readonly PlannedAnnouncement[],
  deps: AnnounceDependencies,
): Promise<Map<string, EntryResult>> {
  const entries = announcements.map(
    (announcement): AnnouncementEntry => ({
      id: announcement.detail.announcementId,
      source: ANNOUNCEMENT_SOURCE,
      detailType: announcement.detailType,
      detail: JSON.stringify(announcement.detail),
    }),
  );
  return sendWithPartialRetry(
    entries,
    PUT_EVENTS_LIMITS,
    announcementEntryBytes,
    (chunk) => deps.publisher.publish(chunk),
    deps.retry ?? DEFAULT_RETRY_POLICY,
  );
}
