/**
 * Announce: publish `video.job.routed` / `video.job.rejected` on the event bus, in PutEvents calls
 * of at most 10 entries and 256 KB of entry size (computed as EventBridge documents it). PutEvents reports refusals per entry (FailedEntryCount): only those
 * entries are resent, so an accepted announcement is never published twice by one invocation.
 * Every detail carries `announcementId` (`<stream>:v<version>:announce`) for consumer dedupe.
 */

import { PUT_EVENTS_LIMITS, putEventsEntryBytes } from '../batching/aws-batch-limits.ts';
import {
  DEFAULT_RETRY_POLICY,
  type EntryResult,
  type RetryPolicy,
  sendWithPartialRetry,
} from '../batching/partial-retry.ts';
import type { AnnouncementEntry, Announcer } from '../ports/announcer.ts';
import { ANNOUNCEMENT_SOURCE, type PlannedAnnouncement } from './effects.ts';

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
    putEventsEntryBytes,
    (chunk) => deps.publisher.publish(chunk),
    deps.retry ?? DEFAULT_RETRY_POLICY,
  );
}
