/**
 * The effect plan of a routing-log record: what the projector must make true in the world for it.
 * Pure — no I/O, no clock: every id and timestamp derives from the record, so a redelivered or
 * replayed record plans byte-identical effects and consumers can dedupe on the ids.
 *
 *   RoutingDecided            → dispatch + `video.job.routed`   + Jobs status ROUTED
 *   RoutingRejected           →            `video.job.rejected` + Jobs status REJECTED (none if jobId is null)
 *   ProjectionReplayRequested → the plan of the copied decision, with this record's version in every id
 *   RoutingRevised            → the plan of the new decision at this version, announced `video.job.rerouted`
 *   ProjectionRedriveRequested → the plan of its target record, unchanged: the target's (original) ids
 *   ProviderHealthChanged     →            `video.provider.health.changed` (no dispatch, no Jobs item)
 */
import type { RejectionReason } from '../intake/reason-codes.ts';
import type { FieldError } from '../intake/submission.ts';
import type { HealthTransition } from '../log/health-records.ts';
import {
  type ProjectableRecord,
  type ProviderHealthChangedRecord,
  projectedDecisionOf,
  type RedriveTarget,
  type RoutingDecidedRecord,
  type RoutingDeferredRecord,
  type RoutingRejectedRecord,
  type RoutingRevisedRecord,
} from '../log/routing-records.ts';
import type { PlannedJobStatus } from '../ports/jobs-table.ts';

export const ANNOUNCEMENT_SOURCE = 'routing.manager';
export const ROUTED_DETAIL_TYPE = 'video.job.routed';
export const REJECTED_DETAIL_TYPE = 'video.job.rejected';
export const HEALTH_CHANGED_DETAIL_TYPE = 'video.provider.health.changed';
export const REROUTED_DETAIL_TYPE = 'video.job.rerouted';
export const FAILED_DETAIL_TYPE = 'video.job.failed';
export const ROUTED_BY = 'RoutingManager';
/** The routing facts written beside the job's own fields in the provider-queue message. */
export interface DispatchRoutingFacts {
  readonly jobId: string;
  /** The provider chosen (the inbound `provider` is kept as `requestedProvider`). */
  readonly provider: string;
  readonly requestedProvider: string;
  readonly model: string;
  readonly queue: string;
  readonly dispatchId: string;
  /** The log version projected: 1 for the decision, ≥ 2 for a replay or a re-route. */
  readonly routingVersion: number;
  readonly routedAt: string;
  /** Why this dispatch exists: the decision, an operator's replay, or a re-route after a failure. */
  readonly dispatchKind: DispatchKind;
  /** Re-routings behind this dispatch: 0 for the decision (and replays of it), 1, 2. */
  readonly revision: number;
  /** The dispatch this one supersedes (the failed one for a re-route); null for the decision. */
  readonly previousDispatchId: string | null;
}

export type DispatchKind = 'decision' | 'replay' | 'reroute';

/** Where a dispatch sits in the job's life: what a consumer needs to fence at receipt. */
export interface DispatchLineage {
  readonly dispatchKind: DispatchKind;
  readonly revision: number;
  readonly previousDispatchId: string | null;
}

const DECISION_LINEAGE: DispatchLineage = { dispatchKind: 'decision', revision: 0, previousDispatchId: null };

/** The lineage of a record's dispatch, from the record alone (a re-drive's is its target's). */
export function lineageOf(record: RedriveTarget): DispatchLineage {
  if (record.type === 'RoutingRevised')
    return {
      dispatchKind: 'reroute',
      revision: record.data.revision,
      previousDispatchId: record.data.failedDispatchId,
    };
  if (record.type === 'ProjectionReplayRequested')
    return {
      dispatchKind: 'replay',
      revision: record.data.revision ?? 0,
      previousDispatchId: record.data.previousDispatchId ?? null,
    };
  return DECISION_LINEAGE;
}

/**
 * The provider-queue message: the job JSON itself at top level — every validated inbound field,
 * unknown extra fields kept — with the routing facts beside them. A field of the job named like a
 * routing fact is overwritten by the fact (docs/EVENT_SCHEMA.md#provider-queue-message).
 */
export type DispatchMessageBody = Readonly<Record<string, unknown>> & DispatchRoutingFacts;

export interface PlannedDispatch {
  readonly dispatchId: string;
  readonly jobId: string;
  readonly provider: string;
  readonly body: DispatchMessageBody;
}

export interface RoutedDetail {
  readonly jobId: string;
  readonly provider: string;
  readonly model: string;
  readonly queue: string;
  readonly routedBy: typeof ROUTED_BY;
  readonly ts: string;
  readonly announcementId: string;
  readonly rulesVersion: string;
  readonly matchedRule: string | null;
}

export interface RejectedDetail {
  readonly jobId: string | null;
  readonly status: 'rejected';
  readonly reason: RejectionReason;
  readonly ts: string;
  readonly announcementId: string;
  readonly rulesVersion: string | null;
  readonly matchedRule: string | null;
  readonly fieldErrors: readonly FieldError[];
}

/** `video.job.rerouted`: the routed announcement of the revision, and what it replaces. */
export interface ReroutedDetail extends RoutedDetail {
  /** The job's routing version now: consumers act only on messages of this version. */
  readonly routingVersion: number;
  readonly revision: number;
  readonly previousProvider: string;
  readonly failedDispatchId: string;
}

/** `video.job.failed`: an explicitly requested provider failed the job; it is not switched. */
export interface FailedDetail {
  readonly jobId: string;
  readonly status: 'failed';
  readonly reason: RejectionReason;
  readonly provider: string;
  readonly failedDispatchId: string;
  readonly routingVersion: number;
  readonly ts: string;
  readonly announcementId: string;
}

/** `video.provider.health.changed`: the transition as recorded, with its announcement id. */
export interface HealthChangedDetail extends HealthTransition {
  readonly announcementId: string;
}

export type PlannedAnnouncement =
  | { readonly detailType: typeof ROUTED_DETAIL_TYPE; readonly detail: RoutedDetail }
  | { readonly detailType: typeof REJECTED_DETAIL_TYPE; readonly detail: RejectedDetail }
  | { readonly detailType: typeof HEALTH_CHANGED_DETAIL_TYPE; readonly detail: HealthChangedDetail }
  | { readonly detailType: typeof REROUTED_DETAIL_TYPE; readonly detail: ReroutedDetail }
  | { readonly detailType: typeof FAILED_DETAIL_TYPE; readonly detail: FailedDetail };

export interface EffectPlan {
  /** Key of the completion marker: `<stream>:v<version>`. */
  readonly effectId: string;
  readonly stream: string;
  readonly version: number;
  readonly jobId: string | null;
  readonly recordType: ProjectableRecord['type'];
  readonly dispatch: PlannedDispatch | null;
  /** Null for a deferral: a held job is announced when it is decided, never while it waits. */
  readonly announcement: PlannedAnnouncement | null;
  readonly jobStatus: PlannedJobStatus | null;
}

export const effectIdOf = (stream: string, version: number): string => `${stream}:v${version}`;
export const dispatchIdOf = (jobId: string, version: number): string => `${jobId}:v${version}`;
export const announcementIdOf = (stream: string, version: number): string => `${stream}:v${version}:announce`;

/** The plan for one record. `version` is the projected record's own version, also for replays. */
/** The plan of any record but a deferral: it always announces. */
export type AnnouncedPlan = EffectPlan & { readonly announcement: PlannedAnnouncement };

export function planEffects(record: Exclude<ProjectableRecord, RoutingDeferredRecord>): AnnouncedPlan;
export function planEffects(record: ProjectableRecord): EffectPlan;
export function planEffects(record: ProjectableRecord): EffectPlan {
  if (record.type === 'ProviderHealthChanged') return planHealthAnnouncement(record);
  if (record.type === 'RoutingDeferred') return planHold(record);
  // A re-drive projects its target exactly as the target was planned: same version, same ids.
  if (record.type === 'ProjectionRedriveRequested') return planEffects(record.data.target);
  if (record.type === 'RoutingRevised') return planRevision(record);
  return planDecision(record);
}

/**
 * A revision is projected like a decision at the revision's version (new dispatchId, Jobs moved
 * forward only), announced as `video.job.rerouted`; an explicit provider's failure only announces
 * `video.job.failed` (the job is not moved, and its Jobs status belongs to the provider's consumer).
 */
function planRevision(record: RoutingRevisedRecord): AnnouncedPlan {
  const plan = planDecision(record);
  const { decision } = record.data;
  if (decision.type === 'RoutingDecided') {
    const routed = plan.announcement.detail as RoutedDetail;
    return {
      ...plan,
      announcement: {
        detailType: REROUTED_DETAIL_TYPE,
        detail: {
          ...routed,
          routingVersion: record.metadata.version,
          revision: record.data.revision,
          previousProvider: record.data.failedProvider,
          failedDispatchId: record.data.failedDispatchId,
        },
      },
    };
  }
  if (decision.data.reason !== 'provider_failed') return plan;
  return {
    ...plan,
    jobStatus: null,
    announcement: {
      detailType: FAILED_DETAIL_TYPE,
      detail: {
        jobId: record.metadata.jobId,
        status: 'failed',
        reason: decision.data.reason,
        provider: record.data.failedProvider,
        failedDispatchId: record.data.failedDispatchId,
        routingVersion: record.data.revises,
        ts: record.metadata.recordedAt,
        announcementId: announcementIdOf(record.metadata.stream, record.metadata.version),
      },
    },
  };
}

function planDecision(record: RedriveTarget): AnnouncedPlan {
  const decision = projectedDecisionOf(record);
  const { stream, version } = record.metadata;
  const base = {
    effectId: effectIdOf(stream, version),
    stream,
    version,
    jobId: decision.metadata.jobId,
    recordType: record.type,
  };
  if (decision.type === 'RoutingDecided') {
    return {
      ...base,
      dispatch: planDispatch(decision, version, lineageOf(record)),
      announcement: { detailType: ROUTED_DETAIL_TYPE, detail: routedDetail(decision, stream, version) },
      jobStatus: {
        jobId: decision.metadata.jobId,
        status: 'ROUTED',
        provider: decision.data.provider,
        model: decision.data.model,
        queue: decision.data.queue,
        reason: null,
        routedAt: decision.metadata.recordedAt,
        routingVersion: version,
      },
    };
  }
  return {
    ...base,
    dispatch: null,
    announcement: { detailType: REJECTED_DETAIL_TYPE, detail: rejectedDetail(decision, stream, version) },
    // An event without a usable jobId has no Jobs item to project onto: announce only.
    jobStatus:
      decision.metadata.jobId === null
        ? null
        : {
            jobId: decision.metadata.jobId,
            status: 'REJECTED',
            provider: null,
            model: null,
            queue: null,
            reason: decision.data.reason,
            routedAt: decision.metadata.recordedAt,
            routingVersion: version,
          },
  };
}

function planDispatch(
  decision: RoutingDecidedRecord,
  version: number,
  lineage: DispatchLineage,
): PlannedDispatch {
  const dispatchId = dispatchIdOf(decision.metadata.jobId, version);
  return {
    dispatchId,
    jobId: decision.metadata.jobId,
    provider: decision.data.provider,
    body: dispatchBodyOf(decision, version, lineage),
  };
}

/** The provider-queue body of a routed decision projected at `version` (pure; what the router sizes). */
export function dispatchBodyOf(
  decision: RoutingDecidedRecord,
  version: number,
  lineage: DispatchLineage = DECISION_LINEAGE,
): DispatchMessageBody {
  const job = JSON.parse(decision.data.job) as Record<string, unknown>;
  const facts: DispatchRoutingFacts = {
    jobId: decision.metadata.jobId,
    provider: decision.data.provider,
    requestedProvider: decision.data.explanation.requestedProvider,
    model: decision.data.model,
    queue: decision.data.queue,
    dispatchId: dispatchIdOf(decision.metadata.jobId, version),
    routingVersion: version,
    routedAt: decision.metadata.recordedAt,
    dispatchKind: lineage.dispatchKind,
    revision: lineage.revision,
    previousDispatchId: lineage.previousDispatchId,
  };
  // The facts are written last: a job field of the same name (an extra one, or the requested
  // `provider`) cannot shadow what routing decided. Object spread defines own properties, so even a
  // `__proto__` extra field stays a plain field.
  return { ...job, ...facts };
}

function routedDetail(decision: RoutingDecidedRecord, stream: string, version: number): RoutedDetail {
  return {
    jobId: decision.metadata.jobId,
    provider: decision.data.provider,
    model: decision.data.model,
    queue: decision.data.queue,
    routedBy: ROUTED_BY,
    ts: decision.metadata.recordedAt,
    announcementId: announcementIdOf(stream, version),
    rulesVersion: decision.data.explanation.rulesVersion,
    matchedRule: decision.data.explanation.matchedRule,
  };
}

function rejectedDetail(decision: RoutingRejectedRecord, stream: string, version: number): RejectedDetail {
  return {
    jobId: decision.metadata.jobId,
    status: 'rejected',
    reason: decision.data.reason,
    ts: decision.metadata.recordedAt,
    announcementId: announcementIdOf(stream, version),
    rulesVersion: decision.data.explanation?.rulesVersion ?? null,
    matchedRule: decision.data.explanation?.matchedRule ?? null,
    fieldErrors: decision.data.fieldErrors,
  };
}

/**
 * A deferral (a first decision's hold at version 1, or a re-routing's at n+1) only moves the Jobs
 * item: status `HELD` at the deferral's version, no provider, model or queue (the job is at none) —
 * so a re-routed job no longer shows the dispatch that failed while it waits. No dispatch, no
 * announcement: the decision that ends the hold is projected like any other.
 */
function planHold(record: RoutingDeferredRecord): EffectPlan {
  const { stream, version, jobId, recordedAt } = record.metadata;
  return {
    effectId: effectIdOf(stream, version),
    stream,
    version,
    jobId,
    recordType: record.type,
    dispatch: null,
    announcement: null,
    jobStatus: {
      jobId,
      status: 'HELD',
      provider: null,
      model: null,
      queue: null,
      reason: null,
      routedAt: recordedAt,
      routingVersion: version,
    },
  };
}

function planHealthAnnouncement(record: ProviderHealthChangedRecord): AnnouncedPlan {
  const { stream, version } = record.metadata;
  return {
    effectId: effectIdOf(stream, version),
    stream,
    version,
    jobId: null,
    recordType: record.type,
    dispatch: null,
    announcement: {
      detailType: HEALTH_CHANGED_DETAIL_TYPE,
      detail: { ...record.data.transition, announcementId: announcementIdOf(stream, version) },
    },
    jobStatus: null,
  };
}
