/**
 * ReplayProjections: the operator's replay after a provider outage. Find the decisions of the
 * window (audit index) → per job, one handleCommand: read its stream → decide (pure,
 * src/commands/replay-plan.ts) → append conditionally at the version decided. Dependencies arrive as
 * ports; no AWS in here.
 *
 * Idempotent per (job, incident): a stream that already holds this incident's replay is skipped,
 * and the append is conditional on its version — a concurrent writer that took the version first
 * (the same replay started twice, or another incident) makes this job re-read and decide again.
 * So an interrupted replay re-run with the same `--incident` sends only what was not sent, and a
 * dry run on an unchanged log reports the versions and ids the real run appends.
 *
 * A routed job whose user content was erased or has expired is still recorded as replayed, with
 * `contentWithheld` saying why: the projector sends nothing for it (docs/DATA_PROTECTION.md).
 */

import type {
  ContentWithheldReason,
  DecisionRecord,
  ProjectionReplayRequestedRecord,
} from '../log/routing-records.ts';
import { announcementIdOf, dispatchIdOf } from '../projections/effects.ts';
import {
  countsOf,
  forEachStream,
  handleStreamCommand,
  type WindowBatchDependencies,
} from './for-each-stream.ts';
import type { IncidentAuthor, IncidentRequest, IncidentSummary } from './incident-batch.ts';
import { decisionsPerStream, incidentAuthorOf, incidentSummaryOf, withheldReason } from './incident-batch.ts';
import {
  isReplayed,
  planReplayStep,
  type ReplayPolicy,
  type ReplaySelection,
  type ReplaySkipReason,
  replayIdOf,
} from './replay-plan.ts';

export interface ReplayProjections {
  readonly type: 'ReplayProjections';
  readonly data: ReplaySelection &
    IncidentRequest & {
      /**
       * The index partitions searched for routed replays (default: `providers`). A job's current
       * dispatch may be at another provider than its decision's (a re-routing), so the CLI passes
       * every provider of the routing tables: the job's stream then says where it is now.
       */
      readonly searchProviders?: readonly string[];
    };
}

export interface ReplayProgress {
  readonly done: number;
  readonly total: number;
  readonly appended: number;
  readonly alreadyReplayed: number;
}

export type ReplayProjectionsDependencies = WindowBatchDependencies<ReplayProgress>;

export type JobReplayAction =
  | 'appended'
  | 'already_replayed'
  | 'would_append'
  | 'skipped'
  | 'no_decision'
  | 'contended'
  | 'failed';

/** One job's outcome, with the ids its replay record has (or would have) — the projector's own. */
export interface JobReplay {
  readonly jobId: string;
  readonly action: JobReplayAction;
  /** The replay record's version in the job's stream; null when nothing was or will be appended. */
  readonly version: number | null;
  /** The provider-queue dispatch id of the replay (`<jobId>:v<version>`); null for a rejection. */
  readonly dispatchId: string | null;
  readonly announcementId: string | null;
  /** Set when the replay sends nothing because the job's content was erased or has expired. */
  readonly contentWithheld?: ContentWithheldReason;
  /** `skipped`: why the job is not re-sent (done, or its current dispatch is elsewhere). */
  readonly skipped?: ReplaySkipReason;
  /** Its current dispatch when skipped: `<jobId>:v<version>` and provider (null: a rejection). */
  readonly current?: { readonly version: number; readonly provider: string | null };
  /** Set when a done job was re-sent because the operator named it (`--pay-again-for`). */
  readonly paidAgain?: string;
  /** Why the job failed (the error's name only: AWS errors can quote request content). */
  readonly error?: string;
}

export interface ReplaySummary extends IncidentSummary {
  readonly replayId: string;
  readonly outcome: ReplaySelection['outcome'];
  readonly alreadyReplayed: number;
  readonly jobs: readonly JobReplay[];
}

function outcomeOf(
  jobId: string,
  action: JobReplayAction,
  record: ProjectionReplayRequestedRecord | null,
): JobReplay {
  if (!record) return { jobId, action, version: null, dispatchId: null, announcementId: null };
  const paid = record.paidAgain ? { paidAgain: record.paidAgain } : {};
  if (record.contentWithheld) {
    const none = { dispatchId: null, announcementId: null };
    return { jobId, action, version: record.version, ...none, contentWithheld: record.contentWithheld };
  }
  // The projector's own id functions (src/projections/effects.ts), applied to the record's version.
  return {
    jobId,
    action,
    version: record.version,
    dispatchId: record.decision.type === 'RoutingDecided' ? dispatchIdOf(jobId, record.version) : null,
    announcementId: announcementIdOf(record.stream, record.version),
    ...paid,
  };
}

/** Read → decide → conditional append for one job (handleCommand: a lost race decides again). */
export async function replayJob(
  deps: Pick<ReplayProjectionsDependencies, 'log' | 'contentOf' | 'retry'>,
  decision: DecisionRecord,
  author: IncidentAuthor,
  dryRun: boolean,
  policy: ReplayPolicy,
): Promise<JobReplay | null> {
  const jobId = decision.jobId as string;
  return handleStreamCommand(
    deps,
    decision.stream,
    {
      // Only a dispatch needs the content: a rejection's replay sends no message to a provider.
      readMore: async (job) => ({
        withheld: await withheldReason(
          job,
          decision.type === 'RoutingDecided' && Boolean(decision.content),
          deps.contentOf,
        ),
      }),
      decide: ({ job, withheld }) => planReplayStep(job, author, withheld, policy),
      append: async (step, { job }): Promise<JobReplay | null> => {
        if (step.action === 'not_selected') return null;
        if (step.action === 'no_decision') return outcomeOf(jobId, 'no_decision', null);
        if (step.action === 'skipped') {
          const { current } = step;
          const provider = current.decision.type === 'RoutingDecided' ? current.decision.provider : null;
          return {
            ...outcomeOf(jobId, 'skipped', null),
            skipped: step.reason,
            current: { version: current.version, provider },
          };
        }
        if (step.action === 'already_replayed') return outcomeOf(jobId, 'already_replayed', step.record);
        if (dryRun) return outcomeOf(jobId, 'would_append', step.record);
        await deps.log.appendToStream(step.record.stream, [step.record], {
          expectedVersion: job.version,
        });
        return outcomeOf(jobId, 'appended', step.record);
      },
    },
    () => outcomeOf(jobId, 'contended', null),
  );
}

export async function replayProjections(
  command: ReplayProjections,
  deps: ReplayProjectionsDependencies,
): Promise<ReplaySummary> {
  const { window, incident, providers, outcome, dryRun } = command.data;
  const selection: ReplaySelection = { providers, outcome };
  const policy: ReplayPolicy = { selection, payAgainFor: new Set(command.data.payAgainFor ?? []) };
  const searched =
    outcome === 'routed' ? [...new Set([...providers, ...(command.data.searchProviders ?? [])])] : providers;
  const author = incidentAuthorOf(command.data, deps.now());
  const matched = await decisionsPerStream(deps.decisions, searched, window, (decision) =>
    isReplayed(decision, selection),
  );

  const found = await forEachStream(
    matched,
    (decision) => replayJob(deps, decision, author, dryRun, policy),
    {
      failed: (decision, error): JobReplay => ({
        ...outcomeOf(decision.jobId as string, 'failed', null),
        error,
      }),
      counters: {
        appended: (job) => (job?.action === 'appended' ? 1 : 0),
        alreadyReplayed: (job) => (job?.action === 'already_replayed' ? 1 : 0),
      },
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    },
  );
  // Candidates whose dispatches were all at other providers are not this replay's business.
  const jobs = found.filter((job): job is JobReplay => job !== null);

  return {
    replayId: replayIdOf(incident),
    ...incidentSummaryOf(command.data, providers, jobs.length, jobs, ['contended', 'no_decision', 'failed']),
    outcome,
    alreadyReplayed: countsOf(jobs)('already_replayed'),
    jobs,
  };
}
