/**
 * Announcements on EventBridge: one PutEvents per call, on the configured bus; a refused entry is
 * reported by its id, with whether a resend could help.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { EntryFailure } from '../batching/partial-retry.ts';
import type { AnnouncementEntry, Announcer } from '../ports/announcer.ts';
import { putEventsOnBus } from './eventbridge-put-events.ts';

/** Refusals a resend of the same entry cannot fix. */
const PERMANENT_ERRORS = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

export class EventBridgeAnnouncer implements Announcer {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;

  constructor(client: EventBridgeClient, eventBusName: string) {
    this.#client = client;
    this.#eventBusName = eventBusName;
  }

  async publish(entries: readonly AnnouncementEntry[]): Promise<ReadonlyMap<string, EntryFailure>> {
    const results = await putEventsOnBus(this.#client, this.#eventBusName, entries);
    const failures = new Map<string, EntryFailure>();
    results.forEach((result, index) => {
      if (result.ok) return;
      failures.set((entries[index] as AnnouncementEntry).id, {
        code: result.code,
        message: result.message,
        retryable: !PERMANENT_ERRORS.has(result.code),
      });
    });
    return failures;
  }
}
