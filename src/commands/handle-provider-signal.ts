/**
 * HandleProviderSignal(s): what provider signals (`provider.attempt.completed`,
 * `provider.status.changed`, `provider.job.started`) do, a batch at a time (`handleProviderSignals`;
 * one signal is a batch of one):
 *
 *   1. RecordHealthSignal: the breakers take the batch's attempt reports and status changes, in
 *      order (first, so a re-decision below already sees the provider's health);
 *   2. ReleaseSlot: a terminal report frees its dispatch's slot — a duplicate too: the release is
 *      idempotent on its own (conditional on the holder), and a first delivery that failed after
 *      the breaker may not have;
 *   3. the job's stream, as `followUpOf` decides (pure): a success or a job-side terminal failure
 *      records the dispatch outcome (RecordDispatchOutcome: the job is done, never re-routed); a
 *      provider-side terminal failure revises the routing (ReviseRouting); anything else, nothing;
 *   4. CountSignal: every attempt report (in its job's segment when step 3 read it) and job start
 *      is counted in its event-time window, the batch's facts together, judged in time or late at
 *      the one instant the batch was admitted (before step 1, so the breaker's `windowed` agrees);
 *      the pairs' due windows are closed, and the breaker judges the windows closed since it last did
 *      (JudgeClosedWindows: the failure-rate rule).
 *
 * Each step is its own idempotent command, so a redelivery of a signal (SQS's, after its batch
 * reported it failed) repeats only what did not happen. `observe` is told each step as it happens —
 * the handler logs and counts through it, so a step already taken is reported even if a later one
 * throws.
 */
import { createHash } from 'node:crypto';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { type ClosedWindow, type WindowFact, windowPairKey } from '../ports/signal-windows.ts';
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
  readonly windows?: SignalCounting;
}

/**
 * What the handler counts through: `count`, and — to judge a batch in time or late once, at one
 * admission instant (`admit`), for the breaker (`inTime`) and the windows (`count`) alike.
 */
export type SignalCounting = Pick<SignalWindowCounter, 'count'> &
  Partial<Pick<SignalWindowCounter, 'inTime' | 'admit'>>;

/**
 * The signal as the breaker takes it: `windowed` when its windows will hold it (counted in time),
 * so an opening it triggers is left to the fold over those windows (src/provider-health/breaker.ts).
 */
export function windowedSignal(
  signal: HealthSignal,
  windows: Partial<Pick<SignalWindowCounter, 'inTime'>> | undefined,
  admittedAtMs?: number,
): HealthSignal {
  const { command } = signal;
  if (command.type !== 'RecordAttempt' || !windows?.inTime) return signal;
  return {
    ...signal,
    command: { ...command, windowed: windows.inTime(Date.parse(command.at), admittedAtMs) },
  };
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

/** One signal of a batch: a report or status change for its breaker, or a job's start (`eventTime`: the envelope's). */
export type ProviderSignal =
  | { readonly kind: 'health'; readonly signal: HealthSignal }
  | { readonly kind: 'started'; readonly started: JobStarted; readonly eventTime: unknown };

/**
 * What one signal of a batch led to. `failed`: a step of its own threw (the error is kept for the
 * caller to report by class, never to quote); the steps it did take are idempotent, so its
 * redelivery repeats only what did not happen.
 */
export type SignalOutcome =
  | {
      readonly kind: 'health';
      readonly result: HandleProviderSignalResult;
      readonly counted?: CountSignalResult;
    }
  | { readonly kind: 'started'; readonly counted?: CountSignalResult }
  | { readonly kind: 'failed'; readonly error: unknown };

/** Signals whose follow-ups (slot, job stream) run at once; those of one job run in order. */
export const FOLLOW_UPS_IN_FLIGHT = 16;

/**
 * Tries `run` on the whole batch; if it throws, on each item alone, so one item that cannot be
 * handled fails alone. Every step given here is idempotent per item, so items the failed batch
 * call already did are only done again (answered as duplicates), never twice.
 */
async function inBatchOrAlone<T, R>(
  items: readonly T[],
  run: (batch: readonly T[]) => Promise<readonly R[]>,
): Promise<({ readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown })[]> {
  if (items.length === 0) return [];
  try {
    return (await run(items)).map((value) => ({ ok: true as const, value }));
  } catch (error) {
    if (items.length === 1) return [{ ok: false as const, error }];
  }
  const alone: ({ ok: true; value: R } | { ok: false; error: unknown })[] = [];
  for (const item of items) {
    try {
      const [value] = await run([item]);
      alone.push({ ok: true, value: value as R });
    } catch (error) {
      alone.push({ ok: false, error });
    }
  }
  return alone;
}

/**
 * HandleProviderSignals: a batch of signals, in arrival order — the one ingestion every consumer
 * uses (the HealthSignals function's SQS batches, one signal at a time, the bench):
 *
 *   1. the breakers take the batch's health signals in order (recordHealthSignals: one read, one
 *      append per breaker its signals changed, one register write per breaker for its successes);
 *   2. each attempt's follow-ups: its slot, then its job's stream (`followUpOf`), those of one job
 *      in order, others at once;
 *   3. the windows take every fact of the batch at once (one fact group per window touched), an
 *      attempt's in its job's segment once step 2 read it, and the pairs' due windows close;
 *   4. the failure-rate rule judges what closed.
 *
 * One signal's failure never fails its neighbours: a batch call that throws is made again for each
 * signal alone, and a signal whose own step throws is answered `failed` and left out of the steps
 * after. `observe` is told each step with the index of its signal (null: the batch's own, a judge).
 */
export async function handleProviderSignals(
  signals: readonly ProviderSignal[],
  deps: HandleProviderSignalDependencies,
  observe: (step: ProviderSignalStep, index: number | null) => void = () => undefined,
): Promise<SignalOutcome[]> {
  const failed = new Map<number, unknown>();
  const fail = (index: number, error: unknown) => {
    if (!failed.has(index)) failed.set(index, error);
  };
  const results = new Map<number, HandleProviderSignalResult>();
  const facts = new Map<number, WindowFact>();
  // One admission instant for the batch: a signal the breaker takes as `windowed` (its opening left
  // to the fold) is a signal its window counts, however long steps 1–2 take before step 3 writes
  // (its window waits WINDOW_SETTLE_MS for such writes before a closer reads it).
  const admittedAtMs = deps.windows?.admit?.();

  // 1. The breakers, in arrival order.
  const health = signals.flatMap((s, index) => (s.kind === 'health' ? [{ index, signal: s.signal }] : []));
  const recorded = await inBatchOrAlone(health, (batch) =>
    recordHealthSignals(
      batch.map((h) => windowedSignal(h.signal, deps.windows, admittedAtMs)),
      deps,
    ),
  );
  for (const [n, answer] of recorded.entries()) {
    const { index } = health[n] as (typeof health)[number];
    if (!answer.ok) fail(index, answer.error);
    else {
      results.set(index, answer.value);
      observe({ type: 'HealthSignalRecorded', result: answer.value }, index);
    }
  }

  // 2. Each attempt's slot and job stream: one job's in order, the jobs at once.
  const byJob = new Map<string, number[]>();
  for (const { index, signal } of health) {
    if (failed.has(index) || !signal.attempt) continue;
    const line = byJob.get(signal.attempt.jobId) ?? [];
    line.push(index);
    byJob.set(signal.attempt.jobId, line);
  }
  await forEachBounded([...byJob.values()], FOLLOW_UPS_IN_FLIGHT, async (line) => {
    for (const index of line) {
      const { signal } = signals[index] as Extract<ProviderSignal, { kind: 'health' }>;
      try {
        const done = await followUp(signal, results.get(index) as HandleProviderSignalResult, deps, (step) =>
          observe(step, index),
        );
        results.set(index, done.result);
        facts.set(index, done.fact);
      } catch (error) {
        fail(index, error);
      }
    }
  });
  for (const [index, s] of signals.entries()) {
    if (s.kind === 'started') facts.set(index, startedFactOf(s.started, s.eventTime));
  }

  // 3–4. The windows: every fact of the batch at once, then the judge of what closed.
  const counted = deps.windows
    ? await countAll(
        deps.windows,
        [...facts].filter(([index]) => !failed.has(index)).sort(([a], [b]) => a - b),
        { ...deps, admittedAtMs },
        observe,
        fail,
      )
    : new Map<number, CountSignalResult>();

  return signals.map((s, index): SignalOutcome => {
    if (failed.has(index)) return { kind: 'failed', error: failed.get(index) };
    const answer = counted.get(index);
    const window = answer === undefined ? {} : { counted: answer };
    if (s.kind === 'started') return { kind: 'started', ...window };
    return { kind: 'health', result: results.get(index) as HandleProviderSignalResult, ...window };
  });
}

/** Step 3–4: the facts counted together (alone if the batch's write throws), then what closed judged. */
async function countAll(
  windows: Pick<SignalWindowCounter, 'count'>,
  facts: readonly (readonly [number, WindowFact])[],
  deps: RecordHealthSignalDependencies & { readonly admittedAtMs: number | undefined },
  observe: (step: ProviderSignalStep, index: number | null) => void,
  fail: (index: number, error: unknown) => void,
): Promise<Map<number, CountSignalResult>> {
  const counted = new Map<number, CountSignalResult>();
  const closed: ClosedPair[] = [];
  const answers = await inBatchOrAlone(facts, async (batch) => {
    const run = await windows.count(
      batch.map(([, fact]) => fact),
      deps.admittedAtMs,
    );
    closed.push(...run.closed);
    return run.counted;
  });
  let reportClosed = true;
  for (const [n, answer] of answers.entries()) {
    const [index, fact] = facts[n] as (typeof facts)[number];
    if (!answer.ok) {
      fail(index, answer.error);
      continue;
    }
    counted.set(index, answer.value);
    // The windows a closer's run closed are reported once, with the first signal counted.
    const closedNow = reportClosed ? closed.flatMap((pair) => pair.closed) : [];
    reportClosed = false;
    observe({ type: 'SignalCounted', fact, counted: answer.value, closed: closedNow }, index);
  }
  for (const pair of closed) {
    try {
      await judgeIn(deps, [pair], (step) => observe(step, null));
    } catch (error) {
      // Judged again only by a redelivery: the signals of the pair fail, so the batch is retried.
      for (const [index, fact] of facts) {
        if (windowPairKey(fact.pair) === windowPairKey(pair.summary.pair)) fail(index, error);
      }
    }
  }
  return counted;
}

/** Steps 2 of one attempt: its slot, then its job's stream; answers its window fact (step 3). */
async function followUp(
  signal: HealthSignal,
  recorded: HandleProviderSignalResult,
  deps: HandleProviderSignalDependencies,
  observe: (step: ProviderSignalStep) => void,
): Promise<{ readonly result: HandleProviderSignalResult; readonly fact: WindowFact }> {
  let result = recorded;
  const attempt = signal.attempt as NonNullable<HealthSignal['attempt']>;
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
  const next = followUpOf(attempt);
  const report = { ...attempt, at: signal.command.at, model: signal.model, errorClass };
  if (deps.revise && next === 'RecordDispatchOutcome') {
    const verdict = await recordDispatchOutcome(
      { ...report, attemptKey: signal.command.signalId },
      deps.revise,
    );
    observe({ type: 'DispatchOutcomeHandled', jobId: attempt.jobId, verdict });
    // Counted in its job's segment, which the verdict read from the job's stream.
    return {
      result: { ...result, verdict: { ...verdict, jobId: attempt.jobId } },
      fact: completedFact({ ...windowFacts, job: verdict.job }),
    };
  }
  const fact = completedFact(windowFacts);
  if (!deps.revise || next !== 'ReviseRouting') return { result, fact };
  const revision = await reviseRouting({ ...report, signalId: signal.command.signalId }, deps.revise);
  observe({ type: 'RoutingRevisionHandled', jobId: attempt.jobId, revision });
  return { result: { ...result, revision }, fact };
}

/** A job start's window fact: at the event's own time when EventBridge gives one, else the sender's `ts`. */
function startedFactOf(started: JobStarted, eventTime: unknown): WindowFact {
  const time = typeof eventTime === 'string' && !Number.isNaN(Date.parse(eventTime)) ? eventTime : started.ts;
  return startedFact({
    key: startedKeyOf(started.dispatchId),
    atMs: Date.parse(time),
    provider: started.provider,
    model: started.model ?? null,
    queueWaitMs: started.queueWaitMs,
  });
}

/** The one outcome of a batch of one: its result, or its failure thrown (the caller's retry). */
function onlyOutcome(outcome: SignalOutcome | undefined): Exclude<SignalOutcome, { kind: 'failed' }> {
  if (!outcome) throw new Error('no outcome for the signal');
  if (outcome.kind === 'failed') throw outcome.error;
  return outcome;
}

/** One signal: HandleProviderSignals of a batch of one (a throw is its retry's). */
export async function handleProviderSignal(
  signal: HealthSignal,
  deps: HandleProviderSignalDependencies,
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<HandleProviderSignalResult> {
  const [outcome] = await handleProviderSignals([{ kind: 'health', signal }], deps, observe);
  return (onlyOutcome(outcome) as Extract<SignalOutcome, { kind: 'health' }>).result;
}

/**
 * `provider.job.started`: one queue-wait sample counted in its window (the event's own time — kept
 * by every redelivery — else the sender's `ts`). Changes no breaker and no slot.
 */
export async function handleJobStarted(
  started: JobStarted,
  eventTime: unknown,
  deps: CountingDependencies,
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<CountSignalResult | undefined> {
  const [outcome] = await handleProviderSignals([{ kind: 'started', started, eventTime }], deps, observe);
  return onlyOutcome(outcome).counted;
}

/**
 * A batch of attempt signals into the breakers and the signal windows only (no job streams, no
 * slots): HandleProviderSignals without them, as the bench drives it. One breaker answer and one
 * window answer per signal, in order; a signal that failed fails the call (the bench counts none lost).
 */
export async function ingestSignalBatch(
  signals: readonly HealthSignal[],
  deps: CountingDependencies & { readonly windows: SignalCounting },
  observe: (step: ProviderSignalStep) => void = () => undefined,
): Promise<{
  readonly health: readonly RecordHealthSignalResult[];
  readonly counted: readonly (CountSignalResult | null)[];
}> {
  const { store, config, retry, windows } = deps;
  const outcomes = await handleProviderSignals(
    signals.map((signal) => ({ kind: 'health' as const, signal })),
    { store, windows, ...(config ? { config } : {}), ...(retry ? { retry } : {}) },
    observe,
  );
  const health: RecordHealthSignalResult[] = [];
  const counted: (CountSignalResult | null)[] = [];
  for (const outcome of outcomes) {
    const { result, counted: answer } = onlyOutcome(outcome) as Extract<SignalOutcome, { kind: 'health' }>;
    health.push(result);
    counted.push(answer ?? null);
  }
  return { health, counted };
}
