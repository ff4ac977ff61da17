/**
 * The one runner of the batch commands — replay, re-drive, forget: each runs one handleCommand per
 * job stream, and they differ only in that command. What they share is here, once:
 *
 * - **bounded fan-out**: at most 8 streams at once (`forEachBounded`: each is a consistent Query and
 *   at most a few conditional writes);
 * - **contention**: a stream whose every append lost the race (`CommandContendedError`, after
 *   handleCommand's retries) is reported `contended` by the command's own shape (`orContended`);
 * - **failures**: one stream's failure (throttling beyond the SDK's retries, a table gone) never
 *   stops its neighbours — it is reported by its error's name only (an AWS error's message can quote
 *   request content), and re-running the same request finishes what was left;
 * - **progress**: reported once the streams are known (done 0), then after every stream, with the
 *   command's own counters;
 * - **counts**: `countsOf` tallies the outcomes by action for the summary.
 */
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { CommandContendedError } from '../errors.ts';
import { type JobState, jobStateOf } from '../log/job-state.ts';
import type { AuditIndex } from '../ports/audit-index.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import type { ContentStatus } from '../queries/content-status.ts';
import { type ConflictRetry, handleCommand } from './handle-command.ts';

/** Streams handled at once. */
export const STREAMS_AT_ONCE = 8;

export interface StreamProgress {
  readonly done: number;
  readonly total: number;
}

/** What every batch command is handed: the log its streams are in, the clock, the retry policy. */
export interface StreamBatchDependencies {
  readonly log: RoutingLog;
  readonly now: () => Date;
  /** How version conflicts are retried (tests pass a `sleep` that does not wait). */
  readonly retry?: ConflictRetry;
}

/** A batch command over a window's decisions (replay, re-drive), with its progress reported. */
export interface WindowBatchDependencies<P extends StreamProgress> extends StreamBatchDependencies {
  /** Where the decisions of a window come from. */
  readonly decisions: AuditIndex;
  /** Where a job's user content stands (content table); without it, content is taken as available. */
  readonly contentOf?: (job: JobState) => Promise<ContentStatus>;
  /** Called once the matching decisions are known (done 0), then after every job. */
  readonly onProgress?: (progress: P) => void;
}

/** One stream's command; a lost race (every attempt contended) answered as `contended()`. */
export async function orContended<R>(command: () => Promise<R>, contended: () => R): Promise<R> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof CommandContendedError) return contended();
    throw error;
  }
}

/**
 * One stream's command (handleCommand): its state read as the one fold (`jobStateOf` of the stream),
 * with whatever else `readMore` reads for it; a lost race answered as `contended()`.
 */
export function handleStreamCommand<More extends object, Decision, Result>(
  deps: { readonly log: RoutingLog; readonly retry?: ConflictRetry },
  stream: string,
  steps: {
    readonly readMore?: (job: JobState) => Promise<More>;
    readonly decide: (state: { readonly job: JobState } & More) => Decision;
    readonly append: (decision: Decision, state: { readonly job: JobState } & More) => Promise<Result>;
  },
  contended: () => Result,
): Promise<Result> {
  return orContended(
    () =>
      handleCommand(
        {
          read: async () => {
            const job = jobStateOf(await deps.log.readStream(stream));
            const more = steps.readMore ? await steps.readMore(job) : ({} as More);
            return { ...more, job };
          },
          decide: steps.decide,
          append: steps.append,
        },
        deps.retry,
      ),
    contended,
  );
}

export interface ForEachStreamOptions<T, R, C extends string> {
  /** What a stream whose command threw reports, told the error's name. */
  readonly failed: (item: T, error: string) => R;
  /** The command's progress counters: how much each stream's outcome adds to each. */
  readonly counters?: { readonly [K in C]: (result: R) => number };
  readonly onProgress?: (progress: StreamProgress & { readonly [K in C]: number }) => void;
}

/** Runs `command` over every stream; the outcomes in the streams' order. */
export async function forEachStream<T, R, C extends string = never>(
  items: readonly T[],
  command: (item: T) => Promise<R>,
  options: ForEachStreamOptions<T, R, C>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const counters = Object.entries(options.counters ?? {}) as [C, (result: R) => number][];
  const progress = {
    done: 0,
    total: items.length,
    ...Object.fromEntries(counters.map(([name]) => [name, 0])),
  } as StreamProgress & Record<C, number>;
  const report = () => options.onProgress?.({ ...progress });
  report();
  await forEachBounded(items, STREAMS_AT_ONCE, async (item, index) => {
    const result = await command(item).catch((error: unknown) =>
      options.failed(item, error instanceof Error ? error.name : 'Error'),
    );
    results[index] = result;
    (progress as { done: number }).done++;
    for (const [name, count] of counters) (progress as Record<C, number>)[name] += count(result);
    report();
  });
  return results;
}

/** How many of the outcomes have each of the given actions (one count for all of them). */
export function countsOf<A extends string>(
  outcomes: readonly { readonly action: A }[],
): (...actions: A[]) => number {
  return (...actions) => outcomes.filter((outcome) => actions.includes(outcome.action)).length;
}
