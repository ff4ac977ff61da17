/**
 * The announcer port: one PutEvents call (≤ 10 entries) on the configured bus; a refused entry comes
 * back by its id, with whether a resend could help. Adapter: src/aws/eventbridge-announcer.ts
 * (tests use a recording fake, tests/support/projector-fakes.ts).
 */
import type { EntryFailure } from '../batching/partial-retry.ts';

export interface AnnouncementEntry {
  /** Entry id, unique within one call (the announcementId). */
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
}

export interface Announcer {
  publish(entries: readonly AnnouncementEntry[]): Promise<ReadonlyMap<string, EntryFailure>>;
}
