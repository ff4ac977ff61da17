/**
 * HandleProviderSignal: what a provider's signal (`provider.attempt.completed`,
 * `provider.status.changed`) does, in order:
 *
 *   1. RecordHealthSignal: the breaker takes it in (first, so a re-decision below already sees
 *      the provider's health);
 *   2. ReleaseSlot: a terminal report frees its dispatch's slot — a duplicate too: the release is
 *      idempotent on its own (conditional on the holder), and a first delivery that failed after
 *      the breaker may not have;
 *   3. the job's stream, as `followUpOf` decides (pure): a success or a job-side terminal failure
 *      records the dispatch outcome (RecordDispatchOutcome: the job is done, never re-routed); a
 *      provider-side terminal failure revises the routing (ReviseRouting); anything else, nothing;
 *   4. CountSignal: every attempt report is counted in its event-time window (its job's segment
 *      known once the outcome is recorded), the pair's due windows are closed, and the breaker
 *      judges the windows closed since it last did (JudgeClosedWindows: the failure-rate rule).
 *
 * Each step is its own idempotent command, so a retry of the whole signal (EventBridge's, after a
 * throw) repeats only what did not happen. `observe` is told each step as it happens — the handler
 * logs and counts through it, so a step already taken is reported even if a later one throws.
 */
import { createHash } from 'node:crypto';
import type { ClosedWindow, WindowFact } from '../ports/signal-windows.ts';
import { breakerKey, isProviderSideFailure } from '../provider-health/breaker.ts';
import { breakerEvidenceOf, completedFact, startedFact } from '../provider-health/signal-windows.ts';
import type { HealthSignal, JobStarted } from '../provider-health/signals.ts';
import type {
  ClosedPair,
  CountSignalResult,
  SignalWindowCounter,
} from '../provider-health/window-counting.ts';
import { type RecordDispatchOutcomeResult, recordDispatchOutcome } from './record-dispatch-outcome.ts';
import {
  judgeClosedWindows,
  type RecordHealthSignalDependencies,
  type RecordHealthSignalResult,
  recordHealthSignal,
  recordHealthSignals,
} from './record-health-signal.ts';
import { type ReleaseSlotDependencies, releaseCompletedSlot } from './release-slot.ts';
import { type ReviseRoutingDependencies, type ReviseRoutingResult, reviseRouting } from './revise-routing.ts';

export interface HandleProviderSignalDependencies extends RecordHealthSignalDependencies {
  /** The job streams a terminal report is recorded in or re-routes; absent: signals only feed the breakers. */
  readonly revise?: ReviseRoutingDependencies;
  /** The slot ledger a terminal attempt frees its slot in; absent: no slot is ever released. */
  readonly slots?: ReleaseSlotDependencies;
  /** The event-time signal windows every signal is counted in; absent: none are kept. */
  readonly windows?: Pick<SignalWindowCounter, 'count'>;
}

export type HandleProviderSignalResult = RecordHealthSignalResult & {
  readonly revision?: ReviseRoutingResult;
  readonly verdict?: RecordDispatchOutcomeResult & { readonly jobId: string };
  /** Set when this terminal report freed its dispatch's slot in the provider's ledger. */
  readonly slotReleased?: string;
};

/** What the signal owes the job's stream (pure). */
export type FollowUp = 'RecordDispatchOutcome' | 'ReviseRouting' | null;

export function followUpOf(attempt: {
  readonly outcome: string;
  readonly errorClass?: string | null;
}): FollowUp {
  if (attempt.outcome === 'succeeded') return 'RecordDispatchOutcome';
  if (attempt.outcome !== 'failed_terminal') return null;
  return isProviderSideFailure(attempt.errorClass ?? null) ? 'ReviseRouting' : 'RecordDispatchOutcome';
}

/** Each step of a signal as it is taken: what the handler reports. */
export type ProviderSignalStep =
  | { readonly type: 'HealthSignalRecorded'; readonly result: RecordHealthSignalResult }
  | { readonly type: 'SlotReleased'; readonly provider: string; readonly jobId: string }
  | {
      readonly type: 'DispatchOutcomeHandled';
      readonly jobId: string;
      readonly verdict: RecordDispatchOutcomeResult;
    }
  | {
      readonly type: 'RoutingRevisionHandled';
      readonly jobId: string;
      readonly revision: ReviseRoutingResult;
    }
  | {
      readonly type: 'SignalCounted';
      readonly fact: WindowFact;
      readonly counted: CountSignalResult;
      readonly closed: readonly ClosedWindow[];
    }
  /** The failure-rate rule judged newly closed windows of a pair and recorded a transition. */
  | { readonly type: 'WindowsJudged'; readonly breaker: string; readonly result: RecordHealthSignalResult };

/** Counts a fact in its window when windows are kept, and says so; then judges what closed. */
async function countIn(
  deps: CountingDependencies,
  fact: WindowFact,
  observe: (step: ProviderSignalStep) => void,
): Promise<CountSignalResult | undefined> {
  if (!deps.windows) return undefined;
  const { counted, closed } = await deps.windows.count([fact]);
  const [answer = 'counted'] = counted;
  observe({ type: 'SignalCounted', fact, counted: answer, closed: closed.flatMap((pair) => pair.closed) });
  await judgeIn(deps, closed, observe);
  return answer;
}

/** What counting needs: the windows, and the breakers the failure-rate rule judges them into. */
export type CountingDependencies = Pick<HandleProviderSignalDependencies, 'windows'> &
  RecordHealthSignalDependencies;

/**
 * After a closer's run, each pair's breaker judges its closed windows (the failure-rate rule):
 * only windows not judged yet change anything, so most runs read the breaker and write nothing.
 */
export async function judgeIn(
  deps: RecordHealthSignalDependencies,
  closed: readonly ClosedPair[],
  observe: (step: ProviderSignalStep) => void,
): Promise<void> {
  for (const { summary } of closed) {
    if (summary.closed.length === 0) continue;
    const result = await judgeClosedWindows(summary.pair, summary.closed.map(breakerEvidenceOf), deps);
    if (result.outcome === 'recorded') {
      observe({
        type: 'WindowsJudged',
        breaker: breakerKey(summary.pair.provider, summary.pair.model),
        result,
      });
    }
  }
}

/** A dispatch starts once: its start's dedupe key is the dispatchId (a re-published start counts once). */
const startedKeyOf = (dispatchId: string): string =>
  `started-${createHash('sha256').update(dispatchId).digest('hex').slice(0, 32)}`;

/**
 * `provider.job.started`: one queue-wait sample counted in its window (the event's own time when
 * EventBridge gives one — kept by every redelivery — else the sender's `ts`). Changes no breaker
 * and no slot.
 */
export async function handleJobStarted(
  started: JobStarted,
  eventTime: unknown,
  deps: CountingDependencies,
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<CountSignalResult | undefined> {
  const time = typeof eventTime === 'string' && !Number.isNaN(Date.parse(eventTime)) ? eventTime : started.ts;
  const fact = startedFact({
    key: startedKeyOf(started.dispatchId),
    atMs: Date.parse(time),
    provider: started.provider,
    model: started.model ?? null,
    queueWaitMs: started.queueWaitMs,
  });
  return countIn(deps, fact, observe);
}

export async function handleProviderSignal(
  signal: HealthSignal,
  deps: HandleProviderSignalDependencies,
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<HandleProviderSignalResult> {
  const recorded = await recordHealthSignal(signal, deps);
  observe({ type: 'HealthSignalRecorded', result: recorded });
  let result: HandleProviderSignalResult = recorded;
  const { attempt } = signal;
  if (!attempt) return result;
  if (deps.slots && (await releaseCompletedSlot(attempt, deps.slots)) === 'released') {
    result = { ...result, slotReleased: attempt.provider };
    observe({ type: 'SlotReleased', provider: attempt.provider, jobId: attempt.jobId });
  }
  const errorClass = attempt.errorClass ?? null;
  const windowFacts = {
    key: signal.command.signalId,
    atMs: Date.parse(signal.command.at),
    provider: attempt.provider,
    model: signal.model,
    outcome: attempt.outcome,
    errorClass,
    runMs: attempt.runMs,
    costUsd: attempt.costUsd,
  };
  const followUp = followUpOf(attempt);
  const report = { ...attempt, at: signal.command.at, model: signal.model, errorClass };
  if (deps.revise && followUp === 'RecordDispatchOutcome') {
    const verdict = await recordDispatchOutcome(
      { ...report, attemptKey: signal.command.signalId },
      deps.revise,
    );
    observe({ type: 'DispatchOutcomeHandled', jobId: attempt.jobId, verdict });
    // Counted after the verdict, which reads the job's segment from its stream.
    await countIn(deps, completedFact({ ...windowFacts, job: verdict.job }), observe);
    return { ...result, verdict: { ...verdict, jobId: attempt.jobId } };
  }
  await countIn(deps, completedFact(windowFacts), observe);
  if (!deps.revise || followUp !== 'ReviseRouting') return result;
  const revision = await reviseRouting({ ...report, signalId: signal.command.signalId }, deps.revise);
  observe({ type: 'RoutingRevisionHandled', jobId: attempt.jobId, revision });
  return { ...result, revision };
}

/**
 * A batch of attempt signals into the breakers and the signal windows only — what a batched
 * consumer of health signals ingests (the bench's path; job streams and slots are each signal's
 * own, in handleProviderSignal). The windows take the whole batch as fact groups (one item per
 * window touched) while the breakers take it in arrival order (recordHealthSignals: one read, one
 * register write per breaker for its successes, a commit per counted failure); then the closed
 * windows are judged.
 * One breaker answer and one window answer per signal, in order.
 */
export async function ingestSignalBatch(
  signals: readonly HealthSignal[],
  deps: CountingDependencies & { readonly windows: Pick<SignalWindowCounter, 'count'> },
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<{
  readonly health: readonly RecordHealthSignalResult[];
  readonly counted: readonly (CountSignalResult | null)[];
}> {
  const facts = signals.map(({ attempt, command, model }) =>
    attempt
      ? completedFact({
          key: command.signalId,
          atMs: Date.parse(command.at),
          provider: attempt.provider,
          model,
          outcome: attempt.outcome,
          errorClass: attempt.errorClass ?? null,
          runMs: attempt.runMs,
          costUsd: attempt.costUsd,
        })
      : null,
  );
  // The windows and the breakers are independent stores: written side by side, then what closed is judged.
  const [{ counted, closed }, health] = await Promise.all([
    deps.windows.count(facts.filter((fact) => fact !== null)),
    recordHealthSignals(signals, deps),
  ]);
  const answers = [...counted];
  await judgeIn(deps, closed, observe);
  return { health, counted: facts.map((fact) => (fact === null ? null : (answers.shift() ?? null))) };
}
