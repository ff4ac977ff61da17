import type { ContentStore } from '../ports/content-vault.ts';
import {
  countsOf,
  forEachStream,
  handleStreamCommand,
  type StreamBatchDependencies,
} from './for-each-stream.ts';
import { type ErasureAuthor, erasureIdOf, planErasureStep } from './forget-plan.ts';

export interface ForgetUser {
  readonly type: 'ForgetUser';
  readonly data: {
    readonly userId: string;
    readonly why: string;
    readonly requestedBy: string;
    readonly dryRun: boolean;
  };
}

export interface ForgetUserDependencies extends StreamBatchDependencies {
  readonly content: ContentStore;
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
  return handleStreamCommand(
    deps,
    stream,
    {
      decide: ({ job }) => planErasureStep(job, author),
      append: async (step, { job }): Promise<JobErasure> => {
        if (step.action === 'already_erased')
          return { stream, action: 'already_erased', version: step.version };
        if (step.action === 'no_decision') return { stream, action: 'no_decision', version: null };
        if (dryRun) return { stream, action: 'would_erase', version: step.record.metadata.version };
        await deps.log.appendToStream(stream, [step.record], { expectedVersion: job.version });
        return { stream, action: 'erased', version: step.record.metadata.version };
      },
    },
    (): JobErasure => ({ stream, action: 'contended', version: null }),
  );
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
  const jobs = await forEachStream(streams, (stream) => eraseJob(deps, stream, author, dryRun), {
    failed: (stream, error): JobErasure => ({ stream, action: 'failed', version: null, error }),
  });
  // The content goes once its erasure is on record (or nothing is left to record it on).
  const done = jobs.filter((job) => ['erased', 'already_erased', 'no_decision'].includes(job.action));
  if (!dryRun && done.length > 0)
    await deps.content.write({ retain: [], erase: done.map((job) => job.stream) });

  const count = countsOf(jobs);
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
