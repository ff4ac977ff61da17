/**
 * The pure part of a re-routing (ReviseRouting, src/commands/revise-routing.ts, and the decision that
 * ends a re-routing's hold, src/commands/hold-job.ts): what a job's state says about a failed
 * attempt, and the records a re-routing writes — a RoutingRevised, or the RoutingDeferred of a job
 * whose every candidate left is full. No I/O, no clock: time arrives in the report.
 */
import type { JobDispatch, JobState } from '../log/job-state.ts';
import {
  type AfterHold,
  type DecisionRecord,
  type HeldReroute,
  RECORD_SCHEMA_VERSION,
  type RoutingDecidedRecord,
  type RoutingDeferredRecord,
  type RoutingRejectedRecord,
  type RoutingRevisedRecord,
} from '../log/routing-records.ts';
import { dispatchIdOf } from '../projections/effects.ts';
import type { Explanation, RoutingDecision } from '../routing/decide.ts';

/** The later of two ISO instants, at least 1 ms after `floor` (a stream's records never go back). */
export function laterOf(at: string, floor: string | null): string {
  if (floor === null) return at;
  const next = new Date(Date.parse(floor) + 1).toISOString();
  return at >= next ? at : next;
}

export const MAX_REVISIONS = 2;

/** A provider's report on one dispatch of a job, as the signal commands take it (src/provider-health/signals.ts). */
export interface DispatchReport {
  /** When the report was counted (the signal's event time). */
  readonly at: string;
  readonly jobId: string;
  readonly dispatchId: string;
  readonly provider: string;
  readonly model: string | null;
  readonly outcome: string;
}

export interface FailedAttempt extends DispatchReport {
  /** The failure signal's event id. */
  readonly signalId: string;
  /** Why it failed: only a provider-side class (COUNTED_ERROR_CLASSES) moves the job. */
  readonly errorClass?: string | null;
}

export type RevisionIgnoredWhy =
  | 'not_terminal'
  | 'job_side_failure'
  | 'no_routed_decision'
  | 'not_current'
  | 'closed'
  | 'content_erased';

/** What the stream says about the failed attempt, before any re-decision (pure). */
export type RevisionPlan =
  | { readonly kind: 'ignored'; readonly why: RevisionIgnoredWhy }
  /** This very failure already held the job (a redelivered report): its deferral stands. */
  | { readonly kind: 'held'; readonly deferral: RoutingDeferredRecord }
  | ({ readonly kind: 'revise' } & RevisionBasis & {
        readonly dispatches: readonly JobDispatch[];
        /** An `auto` job with revisions left: decided again under the rules in force. */
        readonly redecide: boolean;
      });

/** Where a revision goes in the stream, and what it revises. */
export interface RevisionBasis {
  readonly version: number;
  readonly at: string;
  readonly revises: number;
  /** Revisions before this one. */
  readonly revisions: number;
  /** The failed dispatch's decision (the revision copies its ids, facts and sealed content). */
  readonly original: RoutingDecidedRecord;
}

/** The failure a revision answers, as its record names it. */
export type RevisedFailure = Pick<FailedAttempt, 'jobId' | 'dispatchId' | 'provider' | 'model' | 'signalId'>;

/**
 * After a lost race, another record took the version this revision wanted: the failed dispatch is
 * no longer the job's current one (fencing), so nothing is revised.
 */
export const fenced = (plan: RevisionPlan): RevisionPlan =>
  plan.kind === 'revise' ? { kind: 'ignored', why: 'not_current' } : plan;

/** Pure: what the job's state says about a failed attempt, before any re-decision. */
export function planRevision(job: JobState, attempt: FailedAttempt): RevisionPlan {
  const { dispatches } = job;
  const current = dispatches.at(-1);
  if (!current) return { kind: 'ignored', why: 'no_routed_decision' };
  // A done job (completed anywhere, failed, rejected) is never moved again: nobody is paid twice.
  if (job.closed || job.done) return { kind: 'ignored', why: 'closed' };
  if (job.erasure) return { kind: 'ignored', why: 'content_erased' };
  // Held by a re-routing: the failed dispatch is still the last one, but the job has moved on.
  const heldFor = job.held ? job.deferral?.reroute : undefined;
  if (job.deferral && heldFor)
    return heldFor.failedDispatchId === attempt.dispatchId
      ? { kind: 'held', deferral: job.deferral }
      : { kind: 'ignored', why: 'not_current' };
  if (attempt.dispatchId !== dispatchIdOf(attempt.jobId, current.version))
    return { kind: 'ignored', why: 'not_current' };
  const revisions = job.revisions.length;
  const original = current.decision;
  const explicit = original.explanation.requestedProvider !== 'auto';
  return {
    kind: 'revise',
    version: job.version + 1,
    // Monotonic: a revision is never recorded before the record it follows (a report's event time
    // has whole seconds and may trail a decision recorded in the same second).
    at: laterOf(attempt.at, job.lastRecordedAt),
    revises: current.version,
    revisions,
    original,
    dispatches,
    redecide: !explicit && revisions < MAX_REVISIONS,
  };
}

/** `<provider>#<model>` pairs the job has tried: every dispatch, and the one that just failed. */
export function alreadyTriedOf(
  dispatches: readonly JobDispatch[],
  failed: Pick<FailedAttempt, 'provider' | 'model'>,
  original: RoutingDecidedRecord,
): string[] {
  return [
    ...new Set([
      ...dispatches.map(({ decision }) => `${decision.provider}#${decision.model}`),
      `${failed.provider}#${failed.model ?? original.model}`,
    ]),
  ];
}

/**
 * Pure: the RoutingRevised record, given the basis and (for an `auto` job) the new decision;
 * `afterHold` when it ends a re-routing's hold.
 */
export function revisionRecordOf(
  basis: RevisionBasis,
  failure: RevisedFailure,
  made: RoutingDecision | undefined,
  afterHold?: AfterHold,
): RoutingRevisedRecord {
  const { original } = basis;
  let decision: DecisionRecord;
  if (original.explanation.requestedProvider !== 'auto') {
    decision = rejection(original, 'provider_failed', basis.at);
  } else if (!made) {
    decision = rejection(original, 'retries_exhausted', basis.at);
  } else if (made.outcome === 'routed') {
    decision = {
      ...original,
      recordedAt: basis.at,
      provider: made.provider,
      model: made.model,
      queue: made.queue,
      estimatedCost: made.estimatedCost,
      explanation: made.explanation,
    };
  } else if (made.reason === 'capacity_exhausted') {
    // Every candidate left was full, and the rule does not hold (or its hold ran out): said so.
    decision = rejection(original, 'capacity_exhausted', basis.at, made.explanation);
  } else {
    // The rule named is the one whose candidates are exhausted (the failed dispatch's), not
    // the table's fall-through rule the re-decision ended on; its candidates stay listed.
    decision = rejection(original, 'retries_exhausted', basis.at, {
      ...made.explanation,
      matchedRule: original.explanation.matchedRule,
    });
  }
  return {
    ...recordBaseOf(basis, failure),
    type: 'RoutingRevised',
    ...rerouteOf(basis, failure),
    decision,
    ...(afterHold ? { afterHold } : {}),
  };
}

/** What every record of a re-routing starts with: the stream, the version after the failed one, when. */
const recordBaseOf = (basis: RevisionBasis, failure: RevisedFailure) => ({
  stream: basis.original.stream,
  version: basis.version,
  schemaVersion: RECORD_SCHEMA_VERSION,
  jobId: failure.jobId,
  recordedAt: basis.at,
});

/** The failure as a re-routing's records name it (the revision, and a held one's deferral). */
const rerouteOf = (basis: RevisionBasis, failure: RevisedFailure): HeldReroute => ({
  revision: basis.revisions + 1,
  revises: basis.revises,
  failedDispatchId: failure.dispatchId,
  failedProvider: failure.provider,
  failedModel: failure.model,
  causedBy: failure.signalId,
});

/**
 * Pure: the deferral of a re-routing whose every candidate left is full (the rule holds): the
 * failed dispatch's ids, facts and sealed content carried over (never unsealed), the explanation
 * that found them full, the lines it waits in, and the failure its RoutingRevised will name.
 */
export function rerouteDeferralOf(
  basis: RevisionBasis,
  failure: RevisedFailure,
  explanation: Explanation,
  hold: Pick<RoutingDeferredRecord, 'waitingFor' | 'holdUntil' | 'atMaxHold'>,
): RoutingDeferredRecord {
  const { original } = basis;
  return {
    ...recordBaseOf(basis, failure),
    type: 'RoutingDeferred',
    outcome: 'held',
    eventId: original.eventId,
    submittedAt: original.submittedAt,
    payloadHash: original.payloadHash,
    job: original.job,
    ...(original.content ? { content: original.content } : {}),
    ...(original.shadow ? { shadow: original.shadow } : {}),
    requestedProvider: original.explanation.requestedProvider,
    explanation,
    waitingFor: hold.waitingFor,
    holdUntil: hold.holdUntil,
    atMaxHold: hold.atMaxHold,
    reroute: rerouteOf(basis, failure),
  };
}

/** The failure a re-routing's deferral answers, as the revision that ends its hold names it. */
export const heldFailureOf = (deferral: RoutingDeferredRecord & { readonly reroute: HeldReroute }) => ({
  failure: {
    jobId: deferral.jobId,
    dispatchId: deferral.reroute.failedDispatchId,
    provider: deferral.reroute.failedProvider,
    model: deferral.reroute.failedModel,
    signalId: deferral.reroute.causedBy,
  } satisfies RevisedFailure,
  revises: deferral.reroute.revises,
  revisions: deferral.reroute.revision - 1,
});

function rejection(
  original: RoutingDecidedRecord,
  reason: 'retries_exhausted' | 'provider_failed' | 'capacity_exhausted',
  at: string,
  explanation = original.explanation,
): RoutingRejectedRecord {
  const {
    provider: _provider,
    model: _model,
    queue: _queue,
    estimatedCost: _cost,
    outcome: _outcome,
    type: _type,
    ...rest
  } = original;
  return {
    ...rest,
    recordedAt: at,
    type: 'RoutingRejected',
    outcome: 'rejected',
    reason,
    requestedProvider: original.explanation.requestedProvider,
    fieldErrors: [],
    explanation,
  };
}
