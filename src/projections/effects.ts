/**
 * The effect plan of a routing-log record: what the projector must make true in the world for it.
 * Pure — no I/O, no clock: every id and timestamp derives from the record, so a redelivered or
 * replayed record plans byte-identical effects and consumers can dedupe on the ids.
 *
 *   RoutingDecided            → dispatch + `video.job.routed`   + Jobs status ROUTED
 *   RoutingRejected           →            `video.job.rejected` + Jobs status REJECTED (none if jobId is null)
 *   ProjectionReplayRequested → the plan of the copied decision, with this record's version in every id
 *   ProviderHealthChanged     →            `video.provider.health.changed` (no dispatch, no Jobs item)
 */
import type { RejectionReason } from '../intake/reason-codes.ts';
import type { FieldError } from '../intake/submission.ts';
import type {
  DecisionRecord,
  ProviderHealthChangedRecord,
  RoutingDecidedRecord,
  RoutingLogRecord,
  RoutingRejectedRecord,
} from '../log/routing-records.ts';
import type { HealthTransition } from '../provider-health/breaker.ts';

export const ANNOUNCEMENT_SOURCE = 'routing.manager';
export const ROUTED_DETAIL_TYPE = 'video.job.routed';
export const REJECTED_DETAIL_TYPE = 'video.job.rejected';
export const HEALTH_CHANGED_DETAIL_TYPE = 'video.provider.health.changed';
export const ROUTED_BY = 'RoutingManager';
/** Version of the provider-queue message envelope (docs/EVENT_SCHEMA.md). */
export const DISPATCH_MESSAGE_VERSION = 1;

export type JobStatus = 'ROUTED' | 'REJECTED';

/** The provider-queue message: the routing facts around the exact validated submission. */
export interface DispatchMessageBody {
  readonly messageVersion: number;
  readonly dispatchId: string;
  readonly jobId: string;
  readonly provider: string;
  readonly model: string;
  readonly queue: string;
  readonly routedAt: string;
  readonly job: Record<string, unknown>;
}

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

/** `video.provider.health.changed`: the transition as recorded, with its announcement id. */
export interface HealthChangedDetail extends HealthTransition {
  readonly announcementId: string;
}

export type PlannedAnnouncement =
  | { readonly detailType: typeof ROUTED_DETAIL_TYPE; readonly detail: RoutedDetail }
  | { readonly detailType: typeof REJECTED_DETAIL_TYPE; readonly detail: RejectedDetail }
  | { readonly detailType: typeof HEALTH_CHANGED_DETAIL_TYPE; readonly detail: HealthChangedDetail };

/** The attributes of `Jobs-<Stage>` this agent owns; absent ones are removed (the item converges). */
export interface PlannedJobStatus {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly provider: string | null;
  readonly model: string | null;
  readonly queue: string | null;
  readonly reason: RejectionReason | null;
  /** When the routing decision was made (also for rejections: the time the job left routing). */
  readonly routedAt: string;
  /** The log version that produced this projection; a lower one never overwrites a higher one. */
  readonly routingVersion: number;
}

export interface EffectPlan {
  /** Key of the completion marker: `<stream>:v<version>`. */
  readonly effectId: string;
  readonly stream: string;
  readonly version: number;
  readonly jobId: string | null;
  readonly recordType: RoutingLogRecord['type'];
  readonly dispatch: PlannedDispatch | null;
  readonly announcement: PlannedAnnouncement;
  readonly jobStatus: PlannedJobStatus | null;
}

export const effectIdOf = (stream: string, version: number): string => `${stream}:v${version}`;
export const dispatchIdOf = (jobId: string, version: number): string => `${jobId}:v${version}`;
export const announcementIdOf = (stream: string, version: number): string => `${stream}:v${version}:announce`;

/** The plan for one record. `version` is the projected record's own version, also for replays. */
export function planEffects(record: RoutingLogRecord): EffectPlan {
  if (record.type === 'ProviderHealthChanged') return planHealthAnnouncement(record);
  const decision: DecisionRecord = record.type === 'ProjectionReplayRequested' ? record.decision : record;
  const { stream, version } = record;
  const base = {
    effectId: effectIdOf(stream, version),
    stream,
    version,
    jobId: decision.jobId,
    recordType: record.type,
  };
  if (decision.type === 'RoutingDecided') {
    return {
      ...base,
      dispatch: planDispatch(decision, version),
      announcement: { detailType: ROUTED_DETAIL_TYPE, detail: routedDetail(decision, stream, version) },
      jobStatus: {
        jobId: decision.jobId,
        status: 'ROUTED',
        provider: decision.provider,
        model: decision.model,
        queue: decision.queue,
        reason: null,
        routedAt: decision.recordedAt,
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
      decision.jobId === null
        ? null
        : {
            jobId: decision.jobId,
            status: 'REJECTED',
            provider: null,
            model: null,
            queue: null,
            reason: decision.reason,
            routedAt: decision.recordedAt,
            routingVersion: version,
          },
  };
}

function planDispatch(decision: RoutingDecidedRecord, version: number): PlannedDispatch {
  const dispatchId = dispatchIdOf(decision.jobId, version);
  return {
    dispatchId,
    jobId: decision.jobId,
    provider: decision.provider,
    body: {
      messageVersion: DISPATCH_MESSAGE_VERSION,
      dispatchId,
      jobId: decision.jobId,
      provider: decision.provider,
      model: decision.model,
      queue: decision.queue,
      routedAt: decision.recordedAt,
      // Nested, never merged: the submission keeps unknown fields, which must not shadow the facts.
      job: JSON.parse(decision.job) as Record<string, unknown>,
    },
  };
}

function routedDetail(decision: RoutingDecidedRecord, stream: string, version: number): RoutedDetail {
  return {
    jobId: decision.jobId,
    provider: decision.provider,
    model: decision.model,
    queue: decision.queue,
    routedBy: ROUTED_BY,
    ts: decision.recordedAt,
    announcementId: announcementIdOf(stream, version),
    rulesVersion: decision.explanation.rulesVersion,
    matchedRule: decision.explanation.matchedRule,
  };
}

function rejectedDetail(decision: RoutingRejectedRecord, stream: string, version: number): RejectedDetail {
  return {
    jobId: decision.jobId,
    status: 'rejected',
    reason: decision.reason,
    ts: decision.recordedAt,
    announcementId: announcementIdOf(stream, version),
    rulesVersion: decision.explanation?.rulesVersion ?? null,
    matchedRule: decision.explanation?.matchedRule ?? null,
    fieldErrors: decision.fieldErrors,
  };
}

function planHealthAnnouncement(record: ProviderHealthChangedRecord): EffectPlan {
  const { stream, version } = record;
  return {
    effectId: effectIdOf(stream, version),
    stream,
    version,
    jobId: null,
    recordType: record.type,
    dispatch: null,
    announcement: {
      detailType: HEALTH_CHANGED_DETAIL_TYPE,
      detail: { ...record.transition, announcementId: announcementIdOf(stream, version) },
    },
    jobStatus: null,
  };
}
