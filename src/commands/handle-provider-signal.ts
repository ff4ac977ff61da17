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
 *      known once the outcome is recorded), and the pair's due windows are closed.
 *
 * Each step is its own idempotent command, so a retry of the whole signal (EventBridge's, after a
 * throw) repeats only what did not happen. `observe` is told each step as it happens — the handler
 * logs and counts through it, so a step already taken is reported even if a later one throws.
 */
import { createHash } from 'node:crypto';
import type { ClosedWindow, WindowFact } from '../ports/signal-windows.ts';
import { isProviderSideFailure } from '../provider-health/breaker.ts';
import { completedFact, startedFact } from '../provider-health/signal-windows.ts';
import type { HealthSignal, JobStarted } from '../provider-health/signals.ts';
import type { CountSignalResult, SignalWindowCounter } from '../provider-health/window-counting.ts';
import { type RecordDispatchOutcomeResult, recordDispatchOutcome } from './record-dispatch-outcome.ts';
import {
  type RecordHealthSignalDependencies,
  type RecordHealthSignalResult,
  recordHealthSignal,
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
    };

/** Counts a fact in its window when windows are kept, and says so. */
async function countIn(
  deps: Pick<HandleProviderSignalDependencies, 'windows'>,
  fact: WindowFact,
  observe: (step: ProviderSignalStep) => void,
): Promise<CountSignalResult | undefined> {
  if (!deps.windows) return undefined;
  const { counted, closed } = await deps.windows.count(fact);
  observe({ type: 'SignalCounted', fact, counted, closed });
  return counted;
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
  deps: Pick<HandleProviderSignalDependencies, 'windows'>,
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
