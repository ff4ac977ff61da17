/**
 * ForgetUser: erase one user's content on request. Find the user's retained content (a consistent
 * scan of the content table for the user's ids: no index write per job, docs/DATA_PROTECTION.md) → per job, one handleCommand: read its stream →
 * decide (pure, src/commands/forget-plan.ts) → append a ContentErased record conditionally → then
 * delete the retained content. The projector deletes it again when the ContentErased record reaches it, so a
 * redelivered decision cannot bring the content back. A replay of an erased job sends nothing.
 *
 * Idempotent: a job already erased is not recorded twice, and a re-run after an interruption
 * finishes what was left (its content is still found, its stream already says erased).
 */
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { CommandContendedError } from '../errors.ts';
import { jobStateOf } from '../log/job-state.ts';
import type { ContentStore } from '../ports/content-vault.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { type ErasureAuthor, erasureIdOf, planErasureStep } from './forget-plan.ts';
import { type ConflictRetry, handleCommand } from './handle-command.ts';

const CONCURRENCY = 8;

export interface ForgetUser {
  readonly type: 'ForgetUser';
  readonly data: {
    readonly userId: string;
    readonly why: string;
    readonly requestedBy: string;
    readonly dryRun: boolean;
  };
}

export interface ForgetUserDependencies {
  readonly log: RoutingLog;
  readonly content: ContentStore;
  readonly now: () => Date;
  /** How version conflicts are retried (tests pass a `sleep` that does not wait). */
  readonly retry?: ConflictRetry;
}

export type JobErasureAction =
  | 'erased'
  | 'already_erased'
  | 'would_erase'
  | 'no_decision'
  | 'contended'
  | 'failed';

export interface JobErasure {
  /** The job's stream (`job#<jobId>`, or `event#<eventId>` for a rejection without a jobId). */
  readonly stream: string;
  readonly action: JobErasureAction;
  /** The ContentErased record's version; null when none was or will be appended. */
  readonly version: number | null;
  /** The error's name only (AWS errors can quote request content). */
  readonly error?: string;
}

export interface ForgetSummary {
  readonly erasureId: string;
  readonly dryRun: boolean;
  readonly found: number;
  readonly erased: number;
  readonly alreadyErased: number;
  readonly wouldErase: number;
  readonly failed: number;
  readonly jobs: readonly JobErasure[];
}

/** Read → decide → conditional append for one job (handleCommand: a lost race decides again). */
async function eraseJob(
  deps: Pick<ForgetUserDependencies, 'log' | 'retry'>,
  stream: string,
  author: ErasureAuthor,
  dryRun: boolean,
): Promise<JobErasure> {
  try {
    return await handleCommand(
      {
        read: async () => jobStateOf(await deps.log.readStream(stream)),
        decide: (job) => planErasureStep(job, author),
        append: async (step, job): Promise<JobErasure> => {
          if (step.action === 'already_erased')
            return { stream, action: 'already_erased', version: step.version };
          if (step.action === 'no_decision') return { stream, action: 'no_decision', version: null };
          if (dryRun) return { stream, action: 'would_erase', version: step.record.version };
          await deps.log.appendToStream(stream, [step.record], { expectedVersion: job.version });
          return { stream, action: 'erased', version: step.record.version };
        },
      },
      deps.retry,
    );
  } catch (error) {
    if (error instanceof CommandContendedError) return { stream, action: 'contended', version: null };
    throw error;
  }
}

export async function forgetUser(command: ForgetUser, deps: ForgetUserDependencies): Promise<ForgetSummary> {
  const { userId, why, requestedBy, dryRun } = command.data;
  const author: ErasureAuthor = {
    erasureId: erasureIdOf(why),
    requestedBy,
    why,
    at: deps.now().toISOString(),
  };
  const streams = await deps.content.idsOfUser(userId);
  const jobs: JobErasure[] = new Array(streams.length);
  await forEachBounded(streams, CONCURRENCY, async (stream, index) => {
    jobs[index] = await eraseJob(deps, stream, author, dryRun).catch(
      (error: unknown): JobErasure => ({
        stream,
        action: 'failed',
        version: null,
        error: error instanceof Error ? error.name : 'Error',
      }),
    );
  });
  // The content goes once its erasure is on record (or nothing is left to record it on).
  const done = jobs.filter((job) => ['erased', 'already_erased', 'no_decision'].includes(job.action));
  if (!dryRun && done.length > 0)
    await deps.content.write({ retain: [], erase: done.map((job) => job.stream) });

  const count = (...actions: JobErasureAction[]) => jobs.filter((job) => actions.includes(job.action)).length;
  return {
    erasureId: author.erasureId,
    dryRun,
    found: streams.length,
    erased: count('erased'),
    alreadyErased: count('already_erased'),
    wouldErase: count('would_erase'),
    failed: count('contended', 'failed'),
    jobs,
  };
}
