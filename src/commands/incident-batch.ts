/**
 * What the two incident batches — ReplayProjections and RedriveProjections — share beyond the
 * stream runner (for-each-stream.ts): the request an incident carries, who asked (recorded on every
 * record it appends), the window's decisions taken one per job stream, whether a job's records must
 * send nothing (its content erased or expired), and the head and counts of the summary. They differ
 * only in what a job owes, which their plans decide (replay-plan.ts, redrive-plan.ts); nothing here
 * decides that.
 */
import type { JobState } from '../log/job-state.ts';
import type { ContentWithheldReason, DecisionRecord } from '../log/routing-records.ts';
import type { AuditIndex, AuditWindow } from '../ports/audit-index.ts';
import type { ContentStatus } from '../queries/content-status.ts';
import { countsOf } from './for-each-stream.ts';

/** What every incident batch is asked: the window, the incident key (its identity), who asks and why. */
export interface IncidentRequest {
  readonly window: AuditWindow;
  readonly incident: string;
  readonly why: string;
  readonly requestedBy: string;
  readonly dryRun: boolean;
  /**
   * Jobs to run again although they are done (completed, failed, rejected): the operator names each
   * (`--pay-again-for`), and the provider is paid again. Default: none.
   */
  readonly payAgainFor?: readonly string[];
}

/** Who asked for an incident's records, and why: carried on every record the incident appends. */
export interface IncidentAuthor {
  readonly incident: string;
  readonly requestedBy: string;
  readonly why: string;
  /** When the incident's run was requested (ISO): its records' recordedAt, never part of an id. */
  readonly at: string;
}

export const incidentAuthorOf = (request: IncidentRequest, now: Date): IncidentAuthor => ({
  incident: request.incident,
  requestedBy: request.requestedBy,
  why: request.why,
  at: now.toISOString(),
});

/**
 * The window's decisions the batch handles: one per job stream (the first the index gives; the
 * stream is read whole for each anyway), those without a jobId or refused by `keep` left out.
 */
export async function decisionsPerStream(
  index: AuditIndex,
  providers: readonly string[],
  window: AuditWindow,
  keep: (decision: DecisionRecord) => boolean = () => true,
): Promise<DecisionRecord[]> {
  const matched: DecisionRecord[] = [];
  const seen = new Set<string>();
  for await (const decision of index.decisions(providers, window)) {
    if (decision.jobId === null || seen.has(decision.stream) || !keep(decision)) continue;
    seen.add(decision.stream);
    matched.push(decision);
  }
  return matched;
}

/** Why nothing may be sent for a job whose content stands so (erased, expired), if so. */
export function withheldFor(status: ContentStatus): ContentWithheldReason | undefined {
  if (status === 'erased') return 'content_erased';
  if (status === 'expired') return 'content_expired';
  return undefined;
}

/**
 * Why an incident's records for this job must send nothing, if they must. Only a record that
 * dispatches needs the content (`needsContent`); without a content reader it counts as available.
 */
export async function withheldReason(
  job: JobState,
  needsContent: boolean,
  contentOf: ((job: JobState) => Promise<ContentStatus>) | undefined,
): Promise<ContentWithheldReason | undefined> {
  if (!contentOf || !needsContent) return undefined;
  return withheldFor(await contentOf(job));
}

/** What every incident summary reports, whatever the batch. */
export interface IncidentSummary {
  readonly incident: string;
  readonly providers: readonly string[];
  readonly since: string;
  readonly until: string;
  readonly dryRun: boolean;
  /** Decisions found in the window (one per job stream). */
  readonly matched: number;
  readonly appended: number;
  readonly wouldAppend: number;
  /** Jobs or targets not run because they are done or elsewhere now (listed with why). */
  readonly skipped: number;
  /** Jobs not finished: lost every append race or failed (running the same command again finishes them). */
  readonly failed: number;
  /** Records appended (or that would be) that send nothing: the job's content was erased or has expired. */
  readonly contentWithheld: number;
}

/** The shared part of an incident summary, counted from the outcomes of its jobs (or targets). */
export function incidentSummaryOf<A extends string>(
  request: IncidentRequest,
  providers: readonly string[],
  matched: number,
  outcomes: readonly { readonly action: A; readonly contentWithheld?: ContentWithheldReason }[],
  unfinished: readonly A[],
): IncidentSummary {
  const count = countsOf<string>(outcomes);
  return {
    incident: request.incident,
    providers,
    since: request.window.since,
    until: request.window.until,
    dryRun: request.dryRun,
    matched,
    appended: count('appended'),
    wouldAppend: count('would_append'),
    skipped: count('skipped'),
    failed: count(...unfinished),
    contentWithheld: outcomes.filter((outcome) => outcome.contentWithheld !== undefined).length,
  };
}
