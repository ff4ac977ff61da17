/**
 * Announcements on EventBridge: one PutEvents per call, on the configured bus. PutEvents answers
 * 200 even when entries are refused; the response's Entries line up with the request's, and a
 * refused one carries an ErrorCode.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AnnouncementEntry, EventPublisher } from '../projections/announce.ts';
import type { EntryFailure } from '../projections/partial-batch-retry.ts';

/** Refusals a resend of the same entry cannot fix. */
const PERMANENT_ERRORS = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

export class EventBridgeAnnouncer implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;

  constructor(client: EventBridgeClient, eventBusName: string) {
    this.#client = client;
    this.#eventBusName = eventBusName;
  }

  async publish(entries: readonly AnnouncementEntry[]): Promise<ReadonlyMap<string, EntryFailure>> {
    const output = await this.#client.send(
      new PutEventsCommand({
        Entries: entries.map((entry) => ({
          EventBusName: this.#eventBusName,
          Source: entry.source,
          DetailType: entry.detailType,
          Detail: entry.detail,
        })),
      }),
    );
    const failures = new Map<string, EntryFailure>();
    if (!output.FailedEntryCount) return failures;
    entries.forEach((entry, index) => {
      const result = output.Entries?.[index];
      if (result?.EventId && !result.ErrorCode) return;
      const code = result?.ErrorCode ?? 'MissingEntryResult';
      failures.set(entry.id, {
        code,
        message: result?.ErrorMessage ?? 'PutEvents reported the entry as failed',
        retryable: !PERMANENT_ERRORS.has(code),
      });
    });
    return failures;
  }
}
