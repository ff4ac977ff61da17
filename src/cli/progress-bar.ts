/**
 * The progress bar of the long-running operator commands (replay, redrive): drawn on stderr only
 * when it is a terminal, so piped and `--output json` runs stay clean.
 */
import { SingleBar } from 'cli-progress';
import type { CliContext } from './cli-context.ts';

/** Progress as the command handlers report it: once with done 0, then after every job. */
interface JobProgress {
  readonly done: number;
  readonly total: number;
}

/**
 * The command handler's `onProgress` option: it records how far the command got (so an interrupted
 * run can say so, src/cli/main.ts) and draws the bar only when stderr is a terminal.
 */
export function jobProgressBar<P extends JobProgress>(
  context: CliContext,
  format: string,
  payloadOf: (progress: P) => Record<string, number>,
): { readonly onProgress: (progress: P) => void } {
  const record = (progress: P) => {
    context.progress = { done: progress.done, total: progress.total };
  };
  if (!context.io.stderr.isTTY) return { onProgress: record };
  const bar = new SingleBar({ stream: context.io.stderr as NodeJS.WritableStream, format, hideCursor: true });
  return {
    onProgress: (progress) => {
      record(progress);
      if (progress.done === 0) bar.start(progress.total, 0, payloadOf(progress));
      else bar.update(progress.done, payloadOf(progress));
      if (progress.done === progress.total) bar.stop();
    },
  };
}
