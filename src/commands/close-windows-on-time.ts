/**
 * CloseWindowsOnTime: the scheduled closer (issue 21). Closing a window and judging it (both of the
 * breaker's opening rules, src/provider-health/breaker.ts) must not wait for a later signal of its
 * pair: after a breaker opens, its provider gets no traffic and reports nothing, so a provisional
 * opening would never be recorded, and a failure rate never judged once traffic stops.
 *
 * Each run (every minute, template.yaml `WindowCloserFunction`) takes the pairs of the active
 * routing table, closes their due windows and judges them; then, while its budget lasts, it waits
 * until the next open window of those pairs falls due and does it again — so a window is closed
 * and judged within about a second of being due (`closesAtOf`: its end + WINDOW_GRACE_MS +
 * WINDOW_SETTLE_MS, when every signal admitted to it has been written) whether or not any
 * signal follows. Closing is idempotent (the first record stays, the judged mark is the breaker's),
 * so this and every signal handler's closer may race freely.
 *
 * Time and waiting are passed in (`now`, `sleep`), so a test drives it with a fake clock.
 */
import { type ClosedWindow, type WindowPair, windowPairKey } from '../ports/signal-windows.ts';
import { closesAtOf } from '../provider-health/signal-windows.ts';
import {
  type ClosedPair,
  closeDueWindows,
  type SignalWindowDependencies,
} from '../provider-health/window-counting.ts';
import { judgeIn, type ProviderSignalStep } from './handle-provider-signal.ts';
import type { RecordHealthSignalDependencies } from './record-health-signal.ts';

export interface CloseWindowsOnTimeDependencies extends RecordHealthSignalDependencies {
  readonly windows: SignalWindowDependencies;
  /** Waits this many ms (a test's resolves at once and moves its clock). */
  readonly sleep: (ms: number) => Promise<void>;
}

export interface CloseWindowsOnTimeOptions {
  /** How long one run may keep waiting for windows to fall due (below the function's timeout). */
  readonly budgetMs: number;
  /** Upper bound on close-and-judge rounds per run (each reads the pairs' summaries once). */
  readonly maxRounds?: number;
}

export interface CloseWindowsOnTimeResult {
  readonly rounds: number;
  readonly closed: readonly ClosedWindow[];
}

/** Rounds a run takes at most: a due time every window length over a minute, and some slack. */
const DEFAULT_MAX_ROUNDS = 12;

export async function closeWindowsOnTime(
  pairs: readonly WindowPair[],
  deps: CloseWindowsOnTimeDependencies,
  { budgetMs, maxRounds = DEFAULT_MAX_ROUNDS }: CloseWindowsOnTimeOptions,
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<CloseWindowsOnTimeResult> {
  const deadline = deps.windows.now() + budgetMs;
  const closed: ClosedWindow[] = [];
  let rounds = 0;
  while (rounds < maxRounds) {
    rounds++;
    const run = await closeDueWindows(pairs, deps.windows);
    closed.push(...run.closed);
    // The first round judges every pair (catching up on windows another closer closed but did not
    // get to judge); later rounds only the pairs whose windows they closed.
    const byPair: ClosedPair[] = [...run.summaries.values()]
      .map((summary) => ({
        summary,
        closed: run.closed.filter((w) => windowPairKey(w.pair) === windowPairKey(summary.pair)),
      }))
      .filter((pair) => rounds === 1 || pair.closed.length > 0);
    await judgeIn(deps, byPair, observe);
    // The next open window to fall due; none, or beyond the budget: the next run takes it.
    const dueTimes = [...run.summaries.values()].flatMap((summary) => summary.open.map(closesAtOf));
    if (dueTimes.length === 0) break;
    const next = Math.min(...dueTimes);
    const now = deps.windows.now();
    if (next > deadline) break;
    if (next > now) await deps.sleep(next - now);
  }
  return { rounds, closed };
}
