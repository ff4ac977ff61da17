/**
 * RedriveProjections: the operator's re-drive of abandoned projections. Find the decisions of the
 * window (audit index) → per job, one handleCommand: read its stream and the completion markers of
 * its owed records → decide (pure, src/commands/redrive-plan.ts) → append a `ProjectionRedriveRequested`
 * per incomplete record, conditionally, at the versions decided. The projector then completes each target with
 * its original ids. Dependencies arrive as ports; no AWS in here.
 *
 * Idempotent per (target, incident): a target that already has this incident's re-drive is not
 * re-driven again, and a complete one never is. A lost race for a version (a concurrent writer)
 * makes the job re-read and decide again. A dry run on an unchanged log reports exactly the records
 * (versions, ids) the real run appends.
 *
 * A routed target whose user content was erased or has expired is still recorded as re-driven, with
 * `contentWithheld` saying why: the projector sends nothing for it (as for a replay).
 */
import type { ContentWithheldReason, DecisionRecord } from '../log/routing-records.ts';
import type { EffectMarkers } from '../ports/effect-markers.ts';
import { effectIdOf } from '../projections/effects.ts';
import {
  countsOf,
  forEachStream,
  handleStreamCommand,
  type WindowBatchDependencies,
} from './for-each-stream.ts';
import type { IncidentAuthor, IncidentRequest, IncidentSummary } from './incident-batch.ts';
import { decisionsPerStream, incidentAuthorOf, incidentSummaryOf, withheldReason } from './incident-batch.ts';
import {
  type Effect,
  needsContent,
  planRedriveSteps,
  type RedriveSkipReason,
  redriveIdOf,
} from './redrive-plan.ts';

const DAY_MS = 86_400_000;

export interface RedriveProjections {
  readonly type: 'RedriveProjections';
  readonly data: IncidentRequest & {
    readonly providers: readonly string[];
    /** EFFECT_MARKER_TTL_DAYS of the projector: older targets without a marker are not judged. */
    readonly markerTtlDays: number;
  };
}

export interface RedriveProgress {
  readonly done: number;
  readonly total: number;
  readonly redriven: number;
}

export interface RedriveProjectionsDependencies extends WindowBatchDependencies<RedriveProgress> {
  /** What the projector recorded as complete (its markers, and the Jobs item holding a version). */
  readonly markers: Pick<EffectMarkers, 'read'>;
}

export type TargetRedriveAction =
  | 'appended'
  | 'would_append'
  | 'already_requested'
  | 'complete'
  | 'too_old'
  | 'skipped'
  | 'contended'
  | 'failed';

/** One owed record's outcome, with the original ids the projector completes it under. */
export interface TargetRedrive {
  readonly jobId: string;
  readonly targetVersion: number | null;
  readonly action: TargetRedriveAction;
  readonly missing: readonly Effect[];
  /** The re-drive record's version; null when nothing was or will be appended. */
  readonly redriveVersion: number | null;
  readonly effectId: string | null;
  readonly dispatchId: string | null;
  readonly announcementId: string | null;
  /** Set when the re-drive sends nothing because the job's content was erased or has expired. */
  readonly contentWithheld?: ContentWithheldReason;
  /** `skipped`: why the target is not re-driven (the job is done, or the target is superseded). */
  readonly skipped?: RedriveSkipReason;
  /** Why the job failed (the error's name only: AWS errors can quote request content). */
  readonly error?: string;
}

export interface RedriveSummary extends IncidentSummary {
  readonly redriveId: string;
  readonly complete: number;
  readonly alreadyRequested: number;
  readonly tooOld: number;
  /** Every owed record that is not complete (complete ones are only counted). */
  readonly targets: readonly TargetRedrive[];
}

/** Read → decide → conditional appends for one job stream (handleCommand: a lost race decides again). */
export async function redriveJob(
  deps: Pick<RedriveProjectionsDependencies, 'log' | 'markers' | 'contentOf' | 'retry'>,
  decision: DecisionRecord,
  author: IncidentAuthor,
  options: { dryRun: boolean; oldestJudgeable: string; payAgain?: boolean },
): Promise<TargetRedrive[]> {
  const jobId = decision.metadata.jobId as string;
  return handleStreamCommand(
    deps,
    decision.metadata.stream,
    {
      readMore: async (job) => {
        // Only owed records have effects, so only their completion markers are read.
        const markers = await deps.markers.read(
          job.owed.map((target) => effectIdOf(target.metadata.stream, target.metadata.version)),
        );
        return { markers, withheld: await withheldReason(job, job.owed.some(needsContent), deps.contentOf) };
      },
      decide: ({ job, markers, withheld }) =>
        planRedriveSteps(job, markers, author, options.oldestJudgeable, withheld, options.payAgain),
      append: async (steps, { job }) => {
        const appends = steps.flatMap((step) =>
          step.action === 'append' && step.record ? [step.record] : [],
        );
        // A conflict after earlier appends: the next read finds those as already requested.
        if (!options.dryRun && appends.length > 0) {
          await deps.log.appendToStream(decision.metadata.stream, appends, { expectedVersion: job.version });
        }
        const outcomes: TargetRedrive[] = [];
        for (const step of steps) {
          const action: TargetRedriveAction =
            step.action === 'append' ? (options.dryRun ? 'would_append' : 'appended') : step.action;
          const contentWithheld = step.record?.data.contentWithheld;
          outcomes.push({
            jobId,
            targetVersion: step.target.metadata.version,
            action,
            missing: step.missing,
            redriveVersion:
              step.action === 'append' || step.action === 'already_requested'
                ? (step.record?.metadata.version ?? null)
                : null,
            effectId: step.plan.effectId,
            // What the projector sends for the re-drive: the target's own ids, or nothing if withheld.
            dispatchId: contentWithheld ? null : (step.plan.dispatch?.dispatchId ?? null),
            announcementId: contentWithheld ? null : (step.plan.announcement?.detail.announcementId ?? null),
            ...(contentWithheld ? { contentWithheld } : {}),
            ...(step.skipped ? { skipped: step.skipped } : {}),
          });
        }
        return outcomes;
      },
    },
    () => [contended(jobId)],
  );
}

const contended = (
  jobId: string,
  action: TargetRedriveAction = 'contended',
  error?: string,
): TargetRedrive => ({
  jobId,
  targetVersion: null,
  action,
  missing: [],
  redriveVersion: null,
  effectId: null,
  dispatchId: null,
  announcementId: null,
  ...(error ? { error } : {}),
});

export async function redriveProjections(
  command: RedriveProjections,
  deps: RedriveProjectionsDependencies,
): Promise<RedriveSummary> {
  const { window, incident, providers, dryRun, markerTtlDays } = command.data;
  const payAgainFor = new Set(command.data.payAgainFor ?? []);
  const now = deps.now();
  const author = incidentAuthorOf(command.data, now);
  // A day of margin under the TTL: DynamoDB deletes expired items lazily, but never early.
  const oldestJudgeable = new Date(now.getTime() - (markerTtlDays - 1) * DAY_MS).toISOString();

  const matched = await decisionsPerStream(deps.decisions, providers, window);

  const perJob = await forEachStream(
    matched,
    (decision) =>
      redriveJob(deps, decision, author, {
        dryRun,
        oldestJudgeable,
        payAgain: payAgainFor.has(decision.metadata.jobId as string),
      }),
    {
      failed: (decision, error): TargetRedrive[] => [
        contended(decision.metadata.jobId as string, 'failed', error),
      ],
      counters: {
        redriven: (outcomes) =>
          outcomes.filter((o) => o.action === 'appended' || o.action === 'would_append').length,
      },
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    },
  );

  const all = perJob.flat();
  const count = countsOf(all);
  return {
    redriveId: redriveIdOf(incident),
    ...incidentSummaryOf(command.data, providers, matched.length, all, ['contended', 'failed']),
    complete: count('complete'),
    alreadyRequested: count('already_requested'),
    tooOld: count('too_old'),
    targets: all.filter((target) => target.action !== 'complete'),
  };
}
