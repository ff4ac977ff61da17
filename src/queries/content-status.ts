/**
 * Where a job's user content stands, from its log stream and its retained content: for
 * `history --show-content` and `replay` (which sends nothing for erased or expired content).
 */
import { type ContentKeyRing, isRetained } from '../content/content-key-ring.ts';
import type { JobState } from '../log/job-state.ts';
import { isDecision, type RoutingLogRecord } from '../log/routing-records.ts';
import {
  type ContentStore,
  isErased,
  type RetainedContent,
  type StoredContent,
} from '../ports/content-vault.ts';

/**
 * erased: an operator erased it (a ContentErased record, or its erasure marker) · retained: in the content store ·
 * in_transit: only sealed in the log, its transit key still alive (not yet retained) ·
 * expired: past retention · none: the submission carried no content.
 */
export type ContentStatus = 'erased' | 'retained' | 'in_transit' | 'expired' | 'none';

export function contentStatusOf(
  job: JobState,
  retained: StoredContent | undefined,
  transitKeyAlive: boolean,
  now: Date,
): ContentStatus {
  if (job.erasure || isErased(retained)) return 'erased';
  if (!job.decision?.data.content) return 'none';
  if (isRetained(retained, now)) return 'retained';
  return transitKeyAlive ? 'in_transit' : 'expired';
}

/** A record as the CLI prints it: the sealed content (ciphertext) is never shown. */
export function withoutSealedContent(record: RoutingLogRecord): RoutingLogRecord {
  if (isDecision(record)) {
    const { content: _sealed, ...data } = record.data;
    return { ...record, data } as RoutingLogRecord;
  }
  if (record.type === 'ProjectionReplayRequested' || record.type === 'RoutingRevised') {
    const decision = withoutSealedContent(record.data.decision) as typeof record.data.decision;
    return { ...record, data: { ...record.data, decision } } as RoutingLogRecord;
  }
  if (record.type === 'ProjectionRedriveRequested') {
    // The target is never itself a re-drive: one level deep.
    const target = withoutSealedContent(record.data.target) as typeof record.data.target;
    return { ...record, data: { ...record.data, target } };
  }
  return record;
}

/** Where the content of a job stream stands, read from the content table; and the item if retained. */
/** A job's content status as the batch commands take it (replay, re-drive: erased or expired content sends nothing). */
export const contentStatusReader =
  (ports: { readonly store: ContentStore; readonly keys: ContentKeyRing }, now: () => Date) =>
  async (job: JobState): Promise<ContentStatus> =>
    (await readContentStatus(job, ports, now())).status;

export async function readContentStatus(
  job: JobState,
  ports: { readonly store: Pick<ContentStore, 'read'>; readonly keys: Pick<ContentKeyRing, 'openingKeys'> },
  now: Date,
): Promise<{ status: ContentStatus; retained: RetainedContent | undefined }> {
  const { decision } = job;
  const sealed = decision?.data.content;
  if (!decision || !sealed)
    return { status: contentStatusOf(job, undefined, false, now), retained: undefined };
  const [items, keys] = await Promise.all([
    ports.store.read([decision.metadata.stream]),
    ports.keys.openingKeys([sealed.keyId], now),
  ]);
  const stored = items.get(decision.metadata.stream);
  return {
    status: contentStatusOf(job, stored, keys.has(sealed.keyId), now),
    retained: isErased(stored) ? undefined : stored,
  };
}
