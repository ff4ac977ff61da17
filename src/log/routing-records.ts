/**
 * The immutable records of the routing log. One stream per job (`job#<jobId>`), versions 1, 2, …:
 * version 1 is always the decision (RoutingDecided or RoutingRejected); later versions are
 * operator events about the same job (ProjectionReplayRequested, ContentErased). Records are never
 * updated. User content (user id, prompt, extra fields) is never in clear in a record: `job` holds
 * the routing facts and `content` the rest, sealed (src/content, docs/DATA_PROTECTION.md).
 *
 * Records are plain data; building them is pure (ids and time are passed in).
 */

import { RoutingManagerError } from '../errors.ts';
import { canonicalJson } from '../intake/canonical-json.ts';
import { detailBoundErrors, type FieldError } from '../intake/detail-bounds.ts';
import type { RejectionReason } from '../intake/reason-codes.ts';
import type { JobSubmission } from '../intake/submission.ts';
import type { EstimatedCost } from '../routing/cost.ts';
import type { Explanation, RoutingDecision } from '../routing/decide.ts';
import { fnv1a } from './fnv1a.ts';
import type { HealthTransition } from './health-records.ts';

/**
 * The schema version records are built with: 2 stores the explanation's candidate trail as compact
 * tuples (src/log/stored-records.ts, which also reads version 1 items).
 */
export const RECORD_SCHEMA_VERSION = 2;
export const DECISION_VERSION = 1;
/** Spreads one provider-day of audit-index writes over this many GSI partitions (hot-key guard). */
export const AUDIT_SHARDS = 8;

/**
 * What a record says about itself rather than about the job (Emmett's event metadata): where it sits
 * in its stream, when it was recorded, and the schema it was first stored with. Storage keys of
 * other tables or indexes are never here: the adapter derives them (src/log/stored-records.ts).
 */
export interface RecordMetadata {
  /** Partition key: `job#<jobId>`, `event#<eventId>` for an event without a usable jobId, `health#<key>`. */
  readonly stream: string;
  /** Sort key: 1 for the decision, then 2, 3, … for later events of the same stream. */
  readonly version: number;
  readonly recordedAt: string;
  /**
   * The schema version the record was built with: older ones are read into the current shape (never
   * rewritten), and a copy of an older record (a replay's decision) is stored again as it was.
   */
  readonly schemaVersion: number;
  /** The job the stream is about (what `job#<jobId>` says); null for any other stream. */
  readonly jobId: string | null;
}

/** The metadata of a record on a job's stream. */
export interface JobRecordMetadata extends RecordMetadata {
  readonly jobId: string;
}

/** Provenance of a record made for a submission: the event it answers and its fingerprint. */
export interface SubmissionMetadata extends RecordMetadata {
  /** The EventBridge event id the decision was made for. */
  readonly eventId: string;
  readonly submittedAt: string | null;
  /**
   * Keyed hash of the canonical JSON of the submitted detail (`k1:…`, src/content/payload-hasher.ts):
   * tells a duplicate from a conflict while its hour key lives. Records written before keyed hashes
   * carry an unkeyed sha256 (64 hex digits).
   */
  readonly payloadHash: string;
}

/**
 * A routing-log record (Emmett's event shape): `type`, the event's payload in `data`, and what is
 * about the record in `metadata`.
 */
export interface LogRecord<Type extends string, Data, Metadata extends RecordMetadata = RecordMetadata> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: Metadata;
}

interface DecisionDataBase {
  /** Set on the decision that ended a hold (version 2, after a RoutingDeferred at version 1). */
  readonly afterHold?: AfterHold;
  /** What a shadow candidate table would have decided (`rules shadow`): recorded, never acted on. */
  readonly shadow?: ShadowResult;
  /** The user content of the submission, sealed under a transit key; absent when there was none. */
  readonly content?: SealedContent;
}

export interface RoutingDecidedData extends DecisionDataBase {
  readonly outcome: 'routed';
  /** The validated job as JSON (its routing facts once sealed: joined with `content`, what is enqueued). */
  readonly job: string;
  readonly provider: string;
  readonly model: string;
  readonly queue: string;
  /** Credits; null: not computable (src/routing/cost.ts). */
  readonly estimatedCost: EstimatedCost;
  readonly explanation: Explanation;
}

export type RoutingDecidedRecord = LogRecord<
  'RoutingDecided',
  RoutingDecidedData,
  SubmissionMetadata & JobRecordMetadata
>;

export interface RoutingRejectedData extends DecisionDataBase {
  readonly outcome: 'rejected';
  readonly reason: RejectionReason;
  /** The provider the audit index files this rejection under: the requested one, or `none`. */
  readonly requestedProvider: string;
  readonly fieldErrors: readonly FieldError[];
  /**
   * The submitted detail as JSON (validated when it was valid, raw canonical JSON when it was not);
   * null when it was outside the intake bounds (too deep or too large): then only facts are kept.
   */
  readonly job: string | null;
  readonly explanation: Explanation | null;
  /**
   * `message_too_large` only: the size of the provider-queue message the job would have been sent
   * as, and the queue's maximum it exceeds (bytes, as SQS counts them).
   */
  readonly messageBytes?: number;
  readonly maxMessageBytes?: number;
}

export type RoutingRejectedRecord = LogRecord<'RoutingRejected', RoutingRejectedData, SubmissionMetadata>;

/**
 * What an operator's re-send of a job's effects records beside what it re-sends — a replay and a
 * re-drive alike: who asked and why, and how the re-send differs from the first send on purpose.
 */
export interface ResendData {
  readonly requestedBy: string;
  readonly why: string;
  /** Set when the job's content was erased or had expired: the re-send sends nothing, and says why. */
  readonly contentWithheld?: ContentWithheldReason;
  /**
   * Set when the job was done (completed, failed, rejected) and the operator named it with
   * `--pay-again-for`: the provider is paid again on purpose, and the log says so.
   */
  readonly paidAgain?: 'completed' | 'failed' | 'rejected';
}

export interface ProjectionReplayRequestedData extends ResendData {
  /**
   * Id of the operator's replay, derived from the incident key only (`replay-<sha256(incident)>`):
   * a job's stream holds at most one replay record per incident.
   */
  readonly replayId: string;
  /** The incident key the operator gave (`--incident`); absent on records written before it existed. */
  readonly incident?: string;
  /** The decision being re-projected (its version) and a copy of what the projector needs. */
  readonly replayOf: number;
  readonly decision: DecisionRecord;
  /**
   * The dispatch this replay supersedes (the job's current one when it was replayed) and the
   * revision count behind the copied decision; absent on records written before they existed.
   */
  readonly previousDispatchId?: string | null;
  readonly revision?: number;
}

export type ProjectionReplayRequestedRecord = LogRecord<
  'ProjectionReplayRequested',
  ProjectionReplayRequestedData,
  JobRecordMetadata
>;

export type ContentWithheldReason = 'content_erased' | 'content_expired';

/** An operator erased the job's user content (`routing-manager forget`); the record holds none. */
export interface ContentErasedData {
  /** Deterministic id of the erasure request (same why → same id). */
  readonly erasureId: string;
  readonly requestedBy: string;
  readonly why: string;
}

export type ContentErasedRecord = LogRecord<'ContentErased', ContentErasedData>;

/**
 * A provider breaker's transition, in the stream `health#<provider>[#<model>]` whose versions are
 * the breaker's transition versions. Written in the same transaction as the breaker's working state
 * (src/aws/dynamodb-provider-health-store.ts), so the log and the state never disagree.
 */
export type ProviderHealthChangedRecord = LogRecord<
  'ProviderHealthChanged',
  { readonly transition: HealthTransition },
  RecordMetadata & { readonly jobId: null }
>;

export type DecisionRecord = RoutingDecidedRecord | RoutingRejectedRecord;

/** What a rule does with a job still held at its maximum hold (src/routing/routing-table.ts). */
export type AtMaxHold = 'reject' | 'route_anyway';

/**
 * A job whose every candidate provider was full (its slot ledger refused a slot, or jobs were
 * already waiting there) and whose rule says `whenAllFull: hold`: version 1 of its stream, in place
 * of the decision. It carries what a decision carries (the event id, payload hash, facts and sealed
 * content, the explanation that found every candidate full), so a redelivery is still a duplicate
 * and the decision made later — a RoutingDecided or RoutingRejected at version 2 with `afterHold` —
 * is built from it alone. No side effect of its own: the router puts the job in its providers'
 * waiting lines and the hold backlog (src/commands/hold-job.ts). Not filed in the audit index: the
 * decision that ends the hold is.
 */
export interface RoutingDeferredData {
  readonly outcome: 'held';
  readonly job: string;
  readonly content?: SealedContent;
  readonly shadow?: ShadowResult;
  /** The provider the request named (`auto`, or the one an explicit job waits for). */
  readonly requestedProvider: string;
  /** The decision that found every candidate full (its trail says `provider_full` for each). */
  readonly explanation: Explanation;
  /** The providers whose waiting line the job is in, in the rule's order (one for an explicit job). */
  readonly waitingFor: readonly string[];
  /** When the hold ends at the latest (`recordedAt` + the rule's maxHoldSec), and what happens then. */
  readonly holdUntil: string;
  readonly atMaxHold: AtMaxHold;
  /**
   * Set when the job is held by a **re-routing**: its current dispatch failed at the provider and
   * every candidate left was full. The deferral then follows that dispatch (at version n+1, not 1),
   * and the hold ends in a RoutingRevised (with `afterHold`) rather than a first decision.
   */
  readonly reroute?: HeldReroute;
}

export type RoutingDeferredRecord = LogRecord<
  'RoutingDeferred',
  RoutingDeferredData,
  SubmissionMetadata & JobRecordMetadata
>;

/**
 * The failure a re-routing answers, as its RoutingRevised records it — and as a re-routing's
 * deferral keeps it for the RoutingRevised that ends its hold.
 */
export interface HeldReroute {
  /** 1, 2, …: revisions of this job so far, this one included. */
  readonly revision: number;
  /** The routing version whose dispatch failed, its dispatchId and provider/model. */
  readonly revises: number;
  readonly failedDispatchId: string;
  readonly failedProvider: string;
  readonly failedModel: string | null;
  /** The event id of the failure signal. */
  readonly causedBy: string;
}

/**
 * How a hold ended, recorded on the decision that ends it (version 2 of the stream), or on the
 * RoutingRevised that ends a re-routing's hold (the version after its deferral).
 */
export interface AfterHold {
  /** The deferral's version (1, or n+1 for a re-routing's) and when it was recorded. */
  readonly deferredVersion: number;
  readonly heldSince: string;
  /** recordedAt − heldSince, in ms (finite, ≥ 0). */
  readonly heldMs: number;
  /**
   * `decided_again`: decided before its maximum hold (a slot was free, or the rules in force
   * decided otherwise); `max_hold`: still full when its hold ran out, and the rule's atMaxHold
   * decided (`route_anyway` is recorded as an overflow).
   */
  readonly ended: 'decided_again' | 'max_hold';
}
/**
 * A re-routing of a job after its current dispatch failed terminally at the provider (reported by
 * a `provider.attempt.completed` signal): version n+1 of the job's stream, appended conditionally,
 * so duplicate failure reports create one revision. It carries the new decision — routed to a
 * provider the job has not tried, or rejected (`retries_exhausted`; `provider_failed` for an
 * explicitly requested provider, which is never switched) — as a copy the projector projects at
 * this record's version (a new dispatchId).
 */
export interface RoutingRevisedData extends HeldReroute {
  readonly decision: DecisionRecord;
  /**
   * Set when every candidate left was full at the failure: the job was held (a RoutingDeferred with
   * `reroute`, the version before this one) and this revision ended its hold.
   */
  readonly afterHold?: AfterHold;
}

export type RoutingRevisedRecord = LogRecord<'RoutingRevised', RoutingRevisedData, JobRecordMetadata>;

/**
 * An operator's re-drive of a record whose effects were never completed (its stream batch was given
 * up to the on-failure destination, or outlived the stream's 24 h retention). Unlike a replay, the
 * projector plans the **target** record's effects exactly as it planned the target — its original
 * effectId, dispatchId, announcementId and announcement (a revision's `video.job.rerouted`, a
 * replay's ids at the replay's version): consumers never saw them, so nothing is new, and the
 * target's completion marker makes whatever did happen a no-op.
 */
export interface ProjectionRedriveRequestedData extends ResendData {
  /** `redrive-<sha256(incident)>`: a stream holds at most one re-drive per (target, incident). */
  readonly redriveId: string;
  readonly incident: string;
  /** The version of the record re-driven. */
  readonly redriveOf: number;
  /** A copy of the target record as logged (its sealed content included, never in clear). */
  readonly target: RedriveTarget;
}

export type ProjectionRedriveRequestedRecord = LogRecord<
  'ProjectionRedriveRequested',
  ProjectionRedriveRequestedData,
  JobRecordMetadata
>;

/** The records whose effects the projector owes: decisions, replays and revisions of a job. */
export type RedriveTarget = DecisionRecord | ProjectionReplayRequestedRecord | RoutingRevisedRecord;

/**
 * A provider consumer's terminal verdict on one of the job's dispatches, reported as a
 * `provider.attempt.completed` signal: the job **finished** there — `succeeded`, or
 * `failed_terminal` for a reason that is the job's own (`content_policy`, `invalid_request`, …:
 * never re-routed, another provider would be paid to refuse it too). Recorded once per
 * (dispatch, outcome) so that replay and re-drive know the job is done and never pay for it again.
 * It has no side effect: the provider's consumer owns the Jobs status of a running or finished job.
 */
export interface DispatchOutcomeRecordedData {
  /** The dispatch reported on (`<jobId>:v<routingVersion>`) and that routing version. */
  readonly dispatchId: string;
  readonly routingVersion: number;
  readonly provider: string;
  readonly model: string | null;
  readonly outcome: 'succeeded' | 'failed_terminal';
  readonly errorClass: string | null;
  /** The attempt's dedupe key (docs/EVENT_SCHEMA.md#provider-attempt-completed). */
  readonly causedBy: string;
}

export type DispatchOutcomeRecordedRecord = LogRecord<
  'DispatchOutcomeRecorded',
  DispatchOutcomeRecordedData,
  JobRecordMetadata
>;

export type JobRecord = RedriveTarget | ProjectionRedriveRequestedRecord;
/**
 * The records the projector turns into side effects (a deferral only into the Jobs item's `HELD`
 * status: it is neither dispatched nor announced).
 */
export type ProjectableRecord = JobRecord | ProviderHealthChangedRecord | RoutingDeferredRecord;
export type RoutingLogRecord =
  | ProjectableRecord
  | ContentErasedRecord
  | DispatchOutcomeRecordedRecord
  | RoutingDeferredRecord;

export const isDecision = (record: RoutingLogRecord): record is DecisionRecord =>
  record.type === 'RoutingDecided' || record.type === 'RoutingRejected';

/** The decision a job record projects: its own, the copy it carries, or (a re-drive) its target's. */
export function projectedDecisionOf(record: JobRecord): DecisionRecord {
  const owner = record.type === 'ProjectionRedriveRequested' ? record.data.target : record;
  return isDecision(owner) ? owner : owner.data.decision;
}

/** Where a record goes in its log: a routing-log record's metadata, a rules record's own fields. */
export interface StreamPosition {
  readonly stream: string;
  readonly version: number;
}

/** A routing-log record's position (its metadata). */
export const positionOf = (record: { readonly metadata: StreamPosition }): StreamPosition => record.metadata;

/**
 * Records an append may take: on `stream`, numbered expectedVersion + 1, + 2, … (a caller bug
 * otherwise, never a race: thrown before anything is written).
 */
export function checkAppend(
  stream: string,
  positions: readonly StreamPosition[],
  expectedVersion: number,
): void {
  positions.forEach((position, index) => {
    if (position.stream !== stream || position.version !== expectedVersion + index + 1) {
      throw new InvalidAppendError(
        `record ${index + 1} of an append to ${stream} at version ${expectedVersion} is ${position.stream} v${position.version}`,
      );
    }
  });
}

/**
 * The one shape of every adapter's `appendToStream`: check the numbering, then write the records in
 * order with `put` (conditional on its version being free; it throws VersionConflictError when
 * not, leaving the records before it written). Returns the stream's new version.
 */
export async function appendInOrder<R>(
  stream: string,
  records: readonly R[],
  expectedVersion: number,
  position: (record: R) => StreamPosition,
  put: (record: R) => Promise<void>,
): Promise<number> {
  checkAppend(stream, records.map(position), expectedVersion);
  for (const record of records) await put(record);
  return expectedVersion + records.length;
}

/**
 * The one append contract, written once for every adapter of a log (as Powertools' persistence
 * layer owns its algorithm and a store only its conditional write): `appendToStream` checks the
 * numbering and puts the records in order; an adapter only says how one record is put if its
 * version is free (`putIfFree`, throwing VersionConflictError when it is taken).
 */
export abstract class AppendOnlyLog<R extends { readonly metadata: StreamPosition }> {
  async appendToStream(
    stream: string,
    records: readonly R[],
    { expectedVersion }: { readonly expectedVersion: number },
  ): Promise<number> {
    return appendInOrder(stream, records, expectedVersion, positionOf, (record) => this.putIfFree(record));
  }

  /** Writes `record` at its (stream, version) only if that is free; otherwise throws VersionConflictError. */
  protected abstract putIfFree(record: R): Promise<void>;
}

export class InvalidAppendError extends RoutingManagerError {
  constructor(message: string) {
    super('invalid_append', message);
    this.name = 'InvalidAppendError';
  }
}

export const streamForJob = (jobId: string): string => `job#${jobId}`;
export const streamForHealth = (breakerKey: string): string => `health#${breakerKey}`;

export function healthChangedRecord(transition: HealthTransition): ProviderHealthChangedRecord {
  return {
    type: 'ProviderHealthChanged',
    data: { transition },
    metadata: {
      stream: streamForHealth(transition.key),
      version: transition.version,
      recordedAt: transition.at,
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: null,
    },
  };
}
export const streamForEvent = (eventId: string): string => `event#${eventId}`;

/** FNV-1a: a fast, stable spread of stream ids over the audit shards. */
export function auditShard(stream: string): number {
  return fnv1a(stream) % AUDIT_SHARDS;
}

export const auditPartition = (provider: string, day: string, shard: number): string =>
  `${provider}#${day}#${shard}`;

/**
 * The provider a decision is filed under in the audit index: the one it went to, or — rejected —
 * the one requested (`auto`, `fal`, …; `none` for invalid input).
 */
export const filedProviderOf = (decision: DecisionRecord): string =>
  decision.type === 'RoutingDecided' ? decision.data.provider : decision.data.requestedProvider;

/**
 * The audit index's keys for a decision (`<provider>#<yyyy-mm-dd>#<shard>`, `<recordedAt>#<stream>`):
 * storage, derived from the record wherever it is stored or selected (src/log/stored-records.ts),
 * never a field of it.
 */
export function auditKeysOf(decision: DecisionRecord): { readonly partition: string; readonly sort: string } {
  const { stream, recordedAt } = decision.metadata;
  return {
    partition: auditPartition(filedProviderOf(decision), recordedAt.slice(0, 10), auditShard(stream)),
    sort: `${recordedAt}#${stream}`,
  };
}

export interface Received {
  readonly eventId: string;
  readonly submittedAt: string | null;
  readonly recordedAt: string;
  readonly detail: unknown;
  /** The detail's keyed hash (src/content/payload-hasher.ts), computed by the caller. */
  readonly payloadHash: string;
}

/** A record's provenance from what was received: the event, its time and fingerprint. */
function submissionMetadata(
  received: Received,
  stream: string,
  jobId: string | null,
  version = DECISION_VERSION,
): SubmissionMetadata {
  return {
    stream,
    version,
    recordedAt: received.recordedAt,
    schemaVersion: RECORD_SCHEMA_VERSION,
    jobId,
    eventId: received.eventId,
    submittedAt: received.submittedAt,
    payloadHash: received.payloadHash,
  };
}

/** The record of a decision the rule engine made for a valid submission. */
export function decisionRecord(
  received: Received,
  job: JobSubmission,
  decision: RoutingDecision,
  shadow: ShadowResult | null = null,
): DecisionRecord {
  const metadata = { ...submissionMetadata(received, streamForJob(job.jobId), job.jobId), jobId: job.jobId };
  return withDecision(
    metadata,
    { job: JSON.stringify(job), ...(shadow ? { shadow } : {}) },
    decision,
    job.provider,
  );
}

/** The deferral of a job whose every candidate was full (version 1 of its stream). */
export function deferralRecord(
  received: Received,
  job: JobSubmission,
  explanation: Explanation,
  hold: {
    readonly waitingFor: readonly string[];
    readonly holdUntil: string;
    readonly atMaxHold: AtMaxHold;
  },
  shadow: ShadowResult | null = null,
): RoutingDeferredRecord {
  return {
    type: 'RoutingDeferred',
    data: {
      outcome: 'held',
      job: JSON.stringify(job),
      ...(shadow ? { shadow } : {}),
      requestedProvider: job.provider,
      explanation,
      waitingFor: hold.waitingFor,
      holdUntil: hold.holdUntil,
      atMaxHold: hold.atMaxHold,
    },
    metadata: { ...submissionMetadata(received, streamForJob(job.jobId), job.jobId), jobId: job.jobId },
  };
}

/**
 * The decision that ends a hold: built from the deferral alone (its ids, facts and sealed content
 * carried over, never unsealed), at the next version, filed in the audit index as any decision.
 */
export function decisionAfterHold(
  deferral: RoutingDeferredRecord,
  decision: RoutingDecision,
  at: { readonly version: number; readonly recordedAt: string; readonly ended: AfterHold['ended'] },
): DecisionRecord {
  const heldMs = Math.max(0, Date.parse(at.recordedAt) - Date.parse(deferral.metadata.recordedAt));
  const metadata = {
    ...deferral.metadata,
    version: at.version,
    recordedAt: at.recordedAt,
    schemaVersion: RECORD_SCHEMA_VERSION,
  };
  const data = {
    job: deferral.data.job,
    ...(deferral.data.content ? { content: deferral.data.content } : {}),
    ...(deferral.data.shadow ? { shadow: deferral.data.shadow } : {}),
    afterHold: {
      deferredVersion: deferral.metadata.version,
      heldSince: deferral.metadata.recordedAt,
      heldMs: Number.isFinite(heldMs) ? heldMs : 0,
      ended: at.ended,
    },
  };
  return withDecision(metadata, data, decision, deferral.data.requestedProvider);
}

/**
 * The routed or rejected record a decision makes on top of its stream's metadata and common data.
 * One place for both a first decision and the one that ends a hold, so the two can never differ in
 * shape.
 */
function withDecision(
  metadata: SubmissionMetadata & JobRecordMetadata,
  common: Pick<RoutingDecidedData, 'job' | 'afterHold' | 'shadow' | 'content'>,
  decision: RoutingDecision,
  requestedProvider: string,
): DecisionRecord {
  if (decision.outcome === 'routed') {
    return {
      type: 'RoutingDecided',
      data: {
        ...common,
        outcome: 'routed',
        provider: decision.provider,
        model: decision.model,
        queue: decision.queue,
        estimatedCost: decision.estimatedCost,
        explanation: decision.explanation,
      },
      metadata,
    };
  }
  return {
    type: 'RoutingRejected',
    data: {
      ...common,
      outcome: 'rejected',
      reason: decision.reason,
      requestedProvider,
      fieldErrors: [],
      explanation: decision.explanation,
    },
    metadata,
  };
}

/**
 * The rejection of a job the rules routed but whose provider-queue message can never fit the
 * queue's maximum: known at decision time, so the projector never meets a permanent size failure.
 * The rules' explanation is kept (which rule matched), filed like any rejection of the request.
 */
export function messageTooLargeRecord(
  routed: RoutingDecidedRecord,
  size: { readonly messageBytes: number; readonly maxMessageBytes: number },
): RoutingRejectedRecord {
  const requestedProvider = routed.data.explanation.requestedProvider;
  return {
    type: 'RoutingRejected',
    data: {
      outcome: 'rejected',
      reason: 'message_too_large',
      requestedProvider,
      fieldErrors: [],
      job: routed.data.job,
      explanation: routed.data.explanation,
      messageBytes: size.messageBytes,
      maxMessageBytes: size.maxMessageBytes,
      ...(routed.data.shadow ? { shadow: routed.data.shadow } : {}),
    },
    metadata: routed.metadata,
  };
}

/** The record of a submission rejected at intake (it never reached the rule engine). */
export function intakeRejectionRecord(
  received: Received,
  rejection: { reason: RejectionReason; fieldErrors: readonly FieldError[]; jobId: string | undefined },
): RoutingRejectedRecord {
  const stream = rejection.jobId ? streamForJob(rejection.jobId) : streamForEvent(received.eventId);
  const detail = canonicalJson(received.detail);
  return {
    type: 'RoutingRejected',
    data: {
      outcome: 'rejected',
      reason: rejection.reason,
      requestedProvider: 'none',
      fieldErrors: rejection.fieldErrors,
      // Facts, not an unbounded copy: a detail outside the bounds would not fit a log item.
      job: detailBoundErrors(detail).length === 0 ? (detail.text ?? 'null') : null,
      explanation: null,
    },
    metadata: submissionMetadata(received, stream, rejection.jobId ?? null),
  };
}

/** What the shadow candidate would have done: stored with the decision, never acted on. */
export interface ShadowResult {
  readonly rulesVersion: string;
  readonly outcome: 'routed' | 'rejected';
  readonly provider: string | null;
  readonly model: string | null;
  readonly reason: string | null;
  /** Credits (0 when rejected); null: not computable (src/routing/cost.ts). */
  readonly estimatedCost: EstimatedCost;
}

export interface SealedContent {
  /** The transit key's id: `transit#<yyyy-mm-ddThh>` (UTC hour the record was made in). */
  readonly keyId: string;
  /** Binary attributes, not base64 strings: a log item is billed per KB, and base64 adds a third. */
  readonly iv: Uint8Array;
  /** Ciphertext || GCM tag. */
  readonly data: Uint8Array;
}
