/**
 * RecordDispatchOutcome: a provider consumer's terminal verdict on one of a job's dispatches
 * (`provider.attempt.completed` with `succeeded`, or `failed_terminal` for the job's own reason)
 * appended to the job's stream as a `DispatchOutcomeRecorded` record, so that the job's standing
 * says **done** and replay, re-drive and re-routing never pay a provider for it again.
 *
 *   read the job's stream → decide (pure: `decideDispatchOutcome`) → append at version n+1.
 *
 * Idempotent: once the job is done, a repeated report (a re-published copy, another attempt's
 * success) records nothing. A success counts for any dispatch the job ever had (it completed
 * somewhere); a job-side failure only for the current dispatch (an older one was superseded).
 */
import { type JobState, jobStateOf } from '../log/job-state.ts';
import {
  type DispatchOutcomeRecordedRecord,
  RECORD_SCHEMA_VERSION,
  streamForJob,
} from '../log/routing-records.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { isProviderSideFailure } from '../provider-health/breaker.ts';
import { type ConflictRetry, handleCommand } from './handle-command.ts';
import { type DispatchReport, laterOf } from './revise-routing.ts';

export interface ReportedOutcome extends DispatchReport {
  /** The attempt's dedupe key (src/provider-health/signals.ts: `attemptKeyOf`). */
  readonly attemptKey: string;
  readonly errorClass: string | null;
}

/** The facts of a job that its run-time statistics are kept by (src/provider-health/signal-windows.ts). */
export interface JobShape {
  readonly resolution: string;
  readonly lengthSec: number;
}

export type RecordDispatchOutcomeResult = (
  | { readonly outcome: 'recorded'; readonly record: DispatchOutcomeRecordedRecord }
  | {
      readonly outcome: 'ignored';
      readonly why:
        | 'not_terminal'
        | 'provider_side_failure'
        | 'unknown_dispatch'
        | 'not_current'
        | 'already_done';
    }
) & {
  /** Recorded: the job's resolution and length, read from its decision (absent: unreadable). */
  readonly job?: JobShape;
};

type Ignored = Extract<RecordDispatchOutcomeResult, { outcome: 'ignored' }>;
const ignored = (why: Ignored['why']): Ignored => ({ outcome: 'ignored', why });

/** Pure: the record to append for this report, given the job's state, or why there is none. */
export function decideDispatchOutcome(
  job: JobState,
  report: ReportedOutcome,
): DispatchOutcomeRecordedRecord | Ignored {
  const failed = report.outcome === 'failed_terminal';
  if (report.outcome !== 'succeeded' && !failed) return ignored('not_terminal');
  // A provider-side failure is the re-routing's business (ReviseRouting), not a verdict on the job.
  if (failed && isProviderSideFailure(report.errorClass)) return ignored('provider_side_failure');
  const index = job.dispatches.findIndex(
    ({ version }) => `${report.jobId}:v${version}` === report.dispatchId,
  );
  const dispatch = job.dispatches[index];
  if (!dispatch || job.current === null) return ignored('unknown_dispatch');
  if (job.done) return ignored('already_done');
  // A job-side failure is the job's verdict only for its current dispatch (an older one was superseded).
  if (failed && dispatch.version !== job.current.version) return ignored('not_current');
  return {
    type: 'DispatchOutcomeRecorded',
    data: {
      dispatchId: report.dispatchId,
      routingVersion: dispatch.version,
      provider: report.provider,
      model: report.model,
      outcome: failed ? 'failed_terminal' : 'succeeded',
      errorClass: report.errorClass,
      causedBy: report.attemptKey,
    },
    metadata: {
      stream: streamForJob(report.jobId),
      version: job.version + 1,
      recordedAt: laterOf(report.at, job.lastRecordedAt),
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: report.jobId,
    },
  };
}

export async function recordDispatchOutcome(
  report: ReportedOutcome,
  deps: { readonly log: RoutingLog; readonly retry?: ConflictRetry },
): Promise<RecordDispatchOutcomeResult> {
  if (report.outcome !== 'succeeded' && report.outcome !== 'failed_terminal') return ignored('not_terminal');
  return handleCommand(
    {
      read: async () => jobStateOf(await deps.log.readStream(streamForJob(report.jobId))),
      decide: (job) => decideDispatchOutcome(job, report),
      append: async (decided, job): Promise<RecordDispatchOutcomeResult> => {
        if ('why' in decided) return decided;
        await deps.log.appendToStream(decided.metadata.stream, [decided], { expectedVersion: job.version });
        const shape = jobShapeOf(job);
        return { outcome: 'recorded', record: decided, ...(shape ? { job: shape } : {}) };
      },
    },
    deps.retry,
  );
}

/** The resolution and length of the job its decision routed (the submission as recorded). */
export function jobShapeOf(job: JobState): JobShape | undefined {
  const text = job.decision?.data.job;
  if (typeof text !== 'string') return undefined;
  try {
    const facts = JSON.parse(text) as { resolution?: unknown; lengthSec?: unknown };
    const { resolution, lengthSec } = facts;
    return typeof resolution === 'string' && typeof lengthSec === 'number' && Number.isFinite(lengthSec)
      ? { resolution, lengthSec }
      : undefined;
  } catch {
    return undefined;
  }
}
