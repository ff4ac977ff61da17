/**
 * One PutEvents call on a bus, with the answer per entry. PutEvents answers 200 even when entries
 * are refused; the response's Entries line up with the request's, and a refused one carries an
 * ErrorCode. Shared by the projector's announcements and `routing-manager submit`.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

export interface BusEntry {
  readonly source: string;
  readonly detailType: string;
  /** The detail as JSON text (a JSON object). */
  readonly detail: string;
}

export type PutEntryResult =
  | { readonly ok: true; readonly eventId: string }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Puts ≤ 10 entries (the caller batches them) and returns one result per entry, in order. */
export async function putEventsOnBus(
  client: EventBridgeClient,
  eventBusName: string,
  entries: readonly BusEntry[],
): Promise<PutEntryResult[]> {
  const output = await client.send(
    new PutEventsCommand({
      Entries: entries.map((entry) => ({
        EventBusName: eventBusName,
        Source: entry.source,
        DetailType: entry.detailType,
        Detail: entry.detail,
      })),
    }),
  );
  return entries.map((_, index): PutEntryResult => {
    const result = output.Entries?.[index];
    // No failed entry: all were accepted, whatever the Entries list holds.
    if (!output.FailedEntryCount) return { ok: true, eventId: result?.EventId ?? '' };
    if (result?.EventId && !result.ErrorCode) return { ok: true, eventId: result.EventId };
    return {
      ok: false,
      code: result?.ErrorCode ?? 'MissingEntryResult',
      message: result?.ErrorMessage ?? 'PutEvents reported the entry as failed',
    };
  });
}
