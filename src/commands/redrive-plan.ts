/**
 * Re-drive planning: the pure half of `routing-manager redrive`. A re-drive finishes the projection
 * of records whose effects were never completed — their stream batch was given up to the
 * on-failure destination, or outlived the stream's 24 h retention — by appending one
 * `ProjectionRedriveRequested` record per such target at the stream's next version. The projector
 * plans it with the **target's original ids**, so consumers see nothing new; the target's
 * completion marker turns whatever did happen into a no-op.
 *
 * Which records are owed: a job stream's decision (v1), its replays and its revisions — each has
 * its own marker (`<stream>:v<version>`). A target is complete when its marker has every effect its
 * plan has (dispatch only when routed; Jobs status only with a jobId; the announcement always). A
 * replay recorded with `contentWithheld` owes nothing (it sends nothing by design).
 *
 * Content: a routed target whose user content was erased or has expired cannot be dispatched; its
 * re-drive is still recorded, with `contentWithheld` saying why, and the projector sends nothing for
 * it (the same mechanism as replay: docs/DATA_PROTECTION.md).
 *
 * Markers expire (EFFECT_MARKER_TTL_DAYS): a target without a marker that is older than the TTL
 * (less a day of margin) cannot be told from a completed one whose marker expired, so it is
 * reported `too_old` and never re-driven — a guess would risk a paid duplicate.
 *
 * Identity: `redriveId = redrive-<sha256(incident)>`; a stream holds at most one re-drive of a
 * target per incident, so re-running the same command appends nothing new.
 */
import { createHash } from 'node:crypto';
import type { DoneReason, JobState } from '../log/job-state.ts';
import {
  type ContentWithheldReason,
  type ProjectionRedriveRequestedRecord,
  projectedDecisionOf,
  RECORD_SCHEMA_VERSION,
  type RedriveTarget,
} from '../log/routing-records.ts';
import type { EffectMarker } from '../ports/effect-markers.ts';
import { type EffectPlan, planEffects } from '../projections/effects.ts';
import type { IncidentAuthor } from './incident-batch.ts';

export type Effect = 'dispatch' | 'announce' | 'status';

/** Deterministic: the same incident key gives the same id, whoever asks, whenever. */
export function redriveIdOf(incident: string): string {
  return `redrive-${createHash('sha256').update(incident).digest('hex').slice(0, 24)}`;
}

export type { RedriveTarget } from '../log/routing-records.ts';

/** Whether re-driving this target would need the job's user content (a routed, sealed job). */
export function needsContent(target: RedriveTarget): boolean {
  const decision = projectedDecisionOf(target);
  return decision.type === 'RoutingDecided' && decision.data.content !== undefined;
}

/** The effects of a plan its marker does not record as done. */
export function missingEffects(plan: EffectPlan, marker: EffectMarker | undefined): Effect[] {
  const missing: Effect[] = [];
  if (plan.dispatch && !marker?.dispatched) missing.push('dispatch');
  if (plan.announcement && !marker?.announced) missing.push('announce');
  if (plan.jobStatus && !marker?.statusProjected) missing.push('status');
  return missing;
}

export type RedriveAction = 'append' | 'already_requested' | 'complete' | 'too_old' | 'skipped';

/**
 * Why an incomplete target that still owes its dispatch is not re-driven: the job is done
 * (`completed`, `failed`, `rejected`: paying again needs `--pay-again-for`), or a newer dispatch
 * of the job superseded it (`superseded`: sending it would be stale work, whoever asks).
 */
export type RedriveSkipReason = DoneReason | 'superseded';

export interface RedriveStep {
  readonly action: RedriveAction;
  readonly target: RedriveTarget;
  /** The target's plan: its original effectId, dispatchId and announcementId. */
  readonly plan: EffectPlan;
  readonly missing: readonly Effect[];
  /** The re-drive record to append (`append`) or already in the stream (`already_requested`). */
  readonly record: ProjectionRedriveRequestedRecord | null;
  /** `skipped`: why. */
  readonly skipped?: RedriveSkipReason;
}

/**
 * What to do for each owed record of one stream (`job.owed`), given its state and the markers as
 * read now.
 * `oldestJudgeable` (ISO): targets recorded before it without a complete marker are `too_old`.
 * `contentWithheld`: the job's content is erased or expired — routed targets' re-drives send nothing.
 * Appends take consecutive versions after the stream's last one, in target order.
 */
export function planRedriveSteps(
  job: JobState,
  markers: ReadonlyMap<string, EffectMarker>,
  author: IncidentAuthor,
  oldestJudgeable: string,
  contentWithheld?: ContentWithheldReason,
  payAgain = false,
): RedriveStep[] {
  const redriveId = redriveIdOf(author.incident);
  let next = job.version + 1;
  return job.owed.map((target): RedriveStep => {
    const plan = planEffects(target);
    const missing = missingEffects(plan, markers.get(plan.effectId));
    const step = { target, plan, missing };
    if (missing.length === 0) return { ...step, action: 'complete', record: null };
    const requested = job.redrives.find(
      (record) => record.data.redriveId === redriveId && record.data.redriveOf === target.metadata.version,
    );
    if (requested) return { ...step, action: 'already_requested', record: requested };
    // Only a dispatch pays a provider: an owed announcement or status alone is always finished.
    if (missing.includes('dispatch')) {
      if (target.metadata.version !== job.current?.version)
        return { ...step, action: 'skipped', record: null, skipped: 'superseded' };
      if (job.done && !payAgain)
        return { ...step, action: 'skipped', record: null, skipped: job.done.reason };
    }
    if (target.metadata.recordedAt < oldestJudgeable) return { ...step, action: 'too_old', record: null };
    const withheld = contentWithheld && needsContent(target) ? contentWithheld : undefined;
    const paidAgain = missing.includes('dispatch') ? job.done?.reason : undefined;
    const record = redriveRecord(target, next++, redriveId, author, withheld);
    return {
      ...step,
      action: 'append',
      record: paidAgain ? { ...record, data: { ...record.data, paidAgain } } : record,
    };
  });
}

function redriveRecord(
  target: RedriveTarget,
  version: number,
  redriveId: string,
  author: IncidentAuthor,
  contentWithheld: ContentWithheldReason | undefined,
): ProjectionRedriveRequestedRecord {
  return {
    type: 'ProjectionRedriveRequested',
    data: {
      redriveId,
      incident: author.incident,
      requestedBy: author.requestedBy,
      why: author.why,
      redriveOf: target.metadata.version,
      target,
      ...(contentWithheld ? { contentWithheld } : {}),
    },
    metadata: {
      stream: target.metadata.stream,
      version,
      recordedAt: author.at,
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: target.metadata.jobId as string,
    },
  };
}
