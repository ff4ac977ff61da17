/**
 * Announce: publish `video.job.routed` / `video.job.rejected` on the event bus, in PutEvents calls
 * of at most 10 entries. PutEvents reports refusals per entry (FailedEntryCount): only those
 * entries are resent, so an accepted announcement is never published twice by one invocation.
 * Every detail carries `announcementId` (`<stream>:v<version>:announce`) for consumer dedupe.
 */
import { ANNOUNCEMENT_SOURCE, type PlannedAnnouncement } from './effects.ts';
import {
  DEFAULT_RETRY_POLICY,
  type EntryFailure,
  type EntryResult,
  type RetryPolicy,
  sendWithPartialRetry,
} from './partial-batch-retry.ts';

/** EventBridge accepts at most 10 entries per PutEvents. */
export const PUT_EVENTS_LIMIT = 10;

export interface AnnouncementEntry {
  /** Entry id, unique within one call (the announcementId). */
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
}

/** The port in front of EventBridge: one PutEvents call (≤ 10 entries) on the configured bus. */
export interface EventPublisher {
  publish(entries: readonly AnnouncementEntry[]): Promise<ReadonlyMap<string, EntryFailure>>;
}

export interface AnnounceDependencies {
  readonly publisher: EventPublisher;
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
    PUT_EVENTS_LIMIT,
    (chunk) => deps.publisher.publish(chunk),
    deps.retry ?? DEFAULT_RETRY_POLICY,
  );
}
