/**
 * The projector's content step, around projectRecords: records arrive with their user content
 * sealed (src/content), and leave it retained in the content store for the retention period.
 *
 *   1. one round of reads: the transit keys of fresh records (cached per container), and the stored
 *      content of the jobs whose dispatch would carry content but which retain nothing here —
 *      copies of a decision (replay, revision, re-drive: the retained content, as their transit
 *      key may be long gone) and a decision past its retention or without sealed content;
 *   2. open each record: a fresh decision gets its whole job back for the dispatch message; a
 *      replay or re-drive of a job whose content was erased or expired sends nothing (the command
 *      records why before appending);
 *   3. one round of writes to the content store: retain the content of fresh decisions (until
 *      recordedAt + retention) with a write that never overwrites — refused where the job already
 *      has an item, it answers with that item — and replace the content of ContentErased records
 *      by the marker;
 *   4. projectRecords on the opened records.
 *
 * Erasure is enforced here, where the effect happens: once a stream holds ContentErased — its marker
 * is stored, or the record is in this batch, wherever in the stream — no record of that job sends
 * anything, sealed or retained, on any path (retry of the decision, revision, replay, re-drive). A
 * fresh decision learns of the marker from its own retaining write, which the marker refuses, so
 * the common case — a decision's first delivery — costs no read (docs/COST.md). (`forget` finds
 * only jobs whose content was retained, so a decision meets the marker only when delivered again.)
 *
 * A record whose content cannot be read or retained fails before any effect and is redelivered.
 */
import { type ContentKeyRing, isRetained } from '../content/content-key-ring.ts';
import { type JsonObject, userIdOf } from '../content/job-content.ts';
import { sealBindingOf, withContent } from '../content/protect-record.ts';
import { openSealedContent } from '../content/sealed-content.ts';
import {
  type DecisionRecord,
  isDecision,
  type ProjectableRecord,
  projectedDecisionOf,
  type RoutingLogRecord,
} from '../log/routing-records.ts';
import { errorFacts } from '../observability/error-facts.ts';
import {
  type ContentKey,
  type ContentStore,
  isErased,
  type RetainedContent,
  type RetainOutcome,
  type StoredContent,
} from '../ports/content-vault.ts';
import { type ProjectorPorts, projectRecords, type RecordOutcome } from './project-records.ts';

export interface ContentPorts {
  readonly keys: Pick<ContentKeyRing, 'openingKeys'>;
  readonly store: ContentStore;
  /** Days user content is kept after its decision (template parameter ContentRetentionDays). */
  readonly retentionDays: number;
}

export type ProtectedProjectorPorts = ProjectorPorts & { readonly content: ContentPorts };

type Failure = NonNullable<RecordOutcome['failure']>;
type Prepared =
  | { readonly kind: 'project'; readonly record: ProjectableRecord }
  | { readonly kind: 'nothing' }
  | { kind: 'failed'; failure: Failure };

export const CONTENT_UNAVAILABLE = 'ContentUnavailable';

/** A fresh decision's content on its way to the store, and the preparation its answer settles. */
interface Retaining {
  readonly item: RetainedContent;
  /** Its projection would send the content to a provider queue (a routed decision). */
  readonly dispatches: boolean;
  readonly prepared: Prepared;
}

const epochSeconds = (iso: string | Date) => Math.floor(new Date(iso).getTime() / 1000);

const retainedUntil = (record: RoutingLogRecord, retentionDays: number) =>
  epochSeconds(record.metadata.recordedAt) + retentionDays * 86_400;

/** A fresh decision with sealed content, within its retention: its content is retained by this batch. */
function retainsHere(record: RoutingLogRecord, now: Date, retentionDays: number): boolean {
  return (
    isDecision(record) &&
    record.data.content !== undefined &&
    retainedUntil(record, retentionDays) > epochSeconds(now)
  );
}

export async function projectWithContent(
  records: readonly RoutingLogRecord[],
  ports: ProtectedProjectorPorts,
): Promise<RecordOutcome[]> {
  const now = ports.now();
  const keyIds = records.flatMap((r) => {
    try {
      const sealed = isDecision(r)
        ? r.data.content
        : copiesDecision(r)
          ? projectedDecisionOf(r).data.content
          : undefined;
      return sealed ? [sealed.keyId] : [];
    } catch {
      return []; // a malformed record fails alone, when prepared below
    }
  });
  const erasedHere = new Set(records.flatMap((r) => (r.type === 'ContentErased' ? [r.metadata.stream] : [])));
  // Read: every job a record would dispatch (its content in it) whose own write will not say
  // whether it is erased — a fresh decision that retains its content learns that from the write.
  const reading = [
    ...new Set(
      records.flatMap((r) =>
        wouldDispatch(r) &&
        !erasedHere.has(r.metadata.stream) &&
        !retainsHere(r, now, ports.content.retentionDays)
          ? [r.metadata.stream]
          : [],
      ),
    ),
  ];
  let keys: Map<string, ContentKey>;
  let stored: Map<string, StoredContent>;
  try {
    [keys, stored] = await Promise.all([
      keyIds.length > 0 ? ports.content.keys.openingKeys(keyIds, now) : new Map<string, ContentKey>(),
      reading.length > 0 ? ports.content.store.read(reading) : new Map<string, StoredContent>(),
    ]);
  } catch (error) {
    const failure = { effect: 'content' as const, ...errorFacts(error) };
    return records.map((record) => outcomeOf(record, { kind: 'failed', failure }));
  }

  const retaining: Retaining[] = [];
  const firstActedOn = new Set<ProjectableRecord>();
  const erase: string[] = [];
  const erasing: Prepared[] = [];
  const prepared = records.map((record): Prepared => {
    try {
      return prepare(record);
    } catch (error) {
      // A malformed record or retained item fails that record alone, never its neighbours.
      return { kind: 'failed', failure: unavailable(errorFacts(error).message) };
    }
  });
  function prepare(record: RoutingLogRecord): Prepared {
    if (record.type === 'ContentErased') {
      erase.push(record.metadata.stream);
      return remember(erasing, { kind: 'nothing' });
    }
    // A provider's verdict on a dispatch is a fact for replay and re-drive; it has no effect.
    if (record.type === 'DispatchOutcomeRecorded') return { kind: 'nothing' };
    // A deferral only moves the Jobs item to HELD (no content, no dispatch, no announcement): the
    // decision that ends the hold (carrying the sealed content) is projected like any other.
    if (record.type === 'RoutingDeferred') return { kind: 'project', record };
    // The job's content is erased: nothing that would carry it is sent, whatever the path.
    if (
      wouldDispatch(record) &&
      (erasedHere.has(record.metadata.stream) || isErased(stored.get(record.metadata.stream)))
    )
      return { kind: 'nothing' };
    if (copiesDecision(record)) {
      if (isWithheld(record)) return { kind: 'nothing' };
      if (!needsRetainedContent(record)) return { kind: 'project', record };
      const decision = projectedDecisionOf(record);
      // Retained content, or — replayed before it was retained — the sealed copy while its key lives.
      const item = stored.get(record.metadata.stream);
      const content = isRetained(item, now)
        ? (JSON.parse(item.content) as JsonObject)
        : openIfKeyLives(decision, keys);
      if (!content) return { kind: 'nothing' };
      return { kind: 'project', record: withCopiedContent(record, withContent(decision, content)) };
    }
    if (!isDecision(record) || !record.data.content) return { kind: 'project', record };
    const key = keys.get(record.data.content.keyId);
    if (!key) {
      // A rejection needs no content to be projected; a dispatch cannot be built without it.
      if (record.type === 'RoutingRejected') return { kind: 'project', record };
      return { kind: 'failed', failure: unavailable(`transit key ${record.data.content.keyId} is gone`) };
    }
    let content: JsonObject;
    try {
      content = openSealedContent(record.data.content, key, sealBindingOf(record));
    } catch (error) {
      return { kind: 'failed', failure: unavailable(errorFacts(error).message) };
    }
    const opened: Prepared = { kind: 'project', record: withContent(record, content) };
    if (!retainsHere(record, now, ports.content.retentionDays)) return opened;
    retaining.push({
      item: {
        id: record.metadata.stream,
        userId: userIdOf(content),
        recordedAt: record.metadata.recordedAt,
        content: JSON.stringify(content),
        expiresAt: retainedUntil(record, ports.content.retentionDays),
      },
      dispatches: wouldDispatch(record),
      prepared: opened,
    });
    return opened;
  }

  const [erased, retained] = await Promise.allSettled([
    erase.length > 0 ? ports.content.store.write({ retain: [], erase }) : Promise.resolve(),
    retaining.length > 0
      ? ports.content.store.retainNew(retaining.map((r) => r.item))
      : Promise.resolve(new Map<string, RetainOutcome>()),
  ]);
  if (erased.status === 'rejected') {
    const failure = { effect: 'content' as const, ...errorFacts(erased.reason) };
    for (const p of erasing) Object.assign(p, { kind: 'failed', failure });
  }
  for (const r of retaining) {
    const outcome: RetainOutcome =
      retained.status === 'rejected'
        ? { kind: 'failed', ...errorFacts(retained.reason) }
        : (retained.value.get(r.item.id) ?? { kind: 'failed', ...unavailable(`no answer for ${r.item.id}`) });
    if (outcome.kind === 'failed') {
      const failure = { effect: 'content' as const, code: outcome.code, message: outcome.message };
      Object.assign(r.prepared, { kind: 'failed', failure });
    }
    // The job already has an item: retained by an earlier delivery (sent as then), or forget's
    // erasure marker, which the write left in place: then nothing of the job is sent.
    else if (outcome.kind === 'existing' && isErased(outcome.item) && r.dispatches)
      Object.assign(r.prepared, { kind: 'nothing' });
    // Retained now for the first time: every delivery retains before any effect, so no earlier
    // one acted on this record and it has no completion marker to read.
    else if (outcome.kind === 'retained' && r.prepared.kind === 'project')
      firstActedOn.add(r.prepared.record);
  }

  const toProject = prepared.flatMap((p) => (p.kind === 'project' ? [p.record] : []));
  const projected = toProject.length > 0 ? await projectRecords(toProject, ports, firstActedOn) : [];
  let next = 0;
  return records.map((record, i) => {
    const p = prepared[i] as Prepared;
    return p.kind === 'project' ? (projected[next++] as RecordOutcome) : outcomeOf(record, p);
  });
}

function openIfKeyLives(decision: DecisionRecord, keys: Map<string, ContentKey>): JsonObject | null {
  const key = decision.data.content ? keys.get(decision.data.content.keyId) : undefined;
  if (!decision.data.content || !key) return null;
  try {
    return openSealedContent(decision.data.content, key, sealBindingOf(decision));
  } catch {
    return null;
  }
}

function remember(writers: Prepared[], prepared: Prepared): Prepared {
  writers.push(prepared);
  return prepared;
}

const unavailable = (message: string): Failure => ({ effect: 'content', code: CONTENT_UNAVAILABLE, message });

type CopyingRecord = Extract<
  RoutingLogRecord,
  { type: 'ProjectionReplayRequested' | 'RoutingRevised' | 'ProjectionRedriveRequested' }
>;

/** A replay, a revision or a re-drive carries a copy of a decision (a re-drive: in its target). */
function copiesDecision(record: RoutingLogRecord): record is CopyingRecord {
  return (
    record.type === 'ProjectionReplayRequested' ||
    record.type === 'RoutingRevised' ||
    record.type === 'ProjectionRedriveRequested'
  );
}

/** A replay or re-drive the operator's command recorded as sending nothing (content erased or expired). */
function isWithheld(record: CopyingRecord): boolean {
  if (record.type === 'RoutingRevised') return false;
  if (record.data.contentWithheld) return true;
  return record.type === 'ProjectionRedriveRequested' && isWithheld(record.data.target as CopyingRecord);
}

/** The record with its copied decision replaced (a re-drive's copy is in its target). */
function withCopiedContent(record: CopyingRecord, decision: DecisionRecord): CopyingRecord {
  if (record.type !== 'ProjectionRedriveRequested')
    return { ...record, data: { ...record.data, decision } } as CopyingRecord;
  const { target } = record.data;
  return {
    ...record,
    data: {
      ...record.data,
      target: isDecision(target) ? decision : { ...target, data: { ...target.data, decision } },
    },
  } as CopyingRecord;
}

/** A record whose projection sends the job (its user content) to a provider queue. */
function wouldDispatch(record: RoutingLogRecord): boolean {
  try {
    if (
      record.type === 'ContentErased' ||
      record.type === 'ProviderHealthChanged' ||
      record.type === 'DispatchOutcomeRecorded' ||
      record.type === 'RoutingDeferred'
    )
      return false;
    if (copiesDecision(record) && isWithheld(record)) return false;
    return projectedDecisionOf(record).type === 'RoutingDecided';
  } catch {
    return false; // a malformed record fails alone, when prepared
  }
}

/** A copy of a routed job's decision whose content was sealed: its dispatch needs the retained content. */
function needsRetainedContent(record: RoutingLogRecord): boolean {
  if (!copiesDecision(record) || isWithheld(record)) return false;
  const decision = projectedDecisionOf(record);
  return decision.type === 'RoutingDecided' && decision.data.content !== undefined;
}

function outcomeOf(
  record: RoutingLogRecord,
  prepared: Exclude<Prepared, { kind: 'project' }>,
): RecordOutcome {
  const state = prepared.kind === 'failed' ? 'not_attempted' : 'not_applicable';
  return {
    ok: prepared.kind !== 'failed',
    effectId: null,
    stream: record.metadata.stream,
    version: record.metadata.version,
    jobId: record.metadata.jobId,
    effects: { dispatch: state, announce: state, status: state },
    statusOutcome: null,
    failure: prepared.kind === 'failed' ? prepared.failure : null,
    markerWritten: true,
  };
}
