/**
 * ReviseRouting: a `failed_terminal` attempt of a job's **current** dispatch re-routes an `auto` job
 * to a provider it has not tried, as a RoutingRevised record at version n+1 of its stream. The append
 * is conditional on that version, so duplicate (or concurrent) failure reports create one revision.
 *
 *   - only the current routing version counts: a report about an older dispatch changes nothing
 *     (fencing: consumers act only on the job's current routingVersion);
 *   - `unknown` and retryable outcomes are never re-routed blind — a paid job may still be running;
 *   - an explicitly requested provider is never switched: the revision records `provider_failed`
 *     and the projector announces `video.job.failed`;
 *   - at most MAX_REVISIONS re-routings; the next failure rejects the job with `retries_exhausted`
 *     (as does a failure when no untried provider is left).
 */
import type { JobSubmission } from '../intake/submission.ts';
import { type JobDispatch, type JobState, jobStateOf } from '../log/job-state.ts';
import type {
  DecisionRecord,
  RoutingDecidedRecord,
  RoutingLogRecord,
  RoutingRejectedRecord,
  RoutingRevisedRecord,
} from '../log/routing-records.ts';
import { RECORD_SCHEMA_VERSION, streamForJob } from '../log/routing-records.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { dispatchIdOf } from '../projections/effects.ts';
import { isProviderSideFailure } from '../provider-health/breaker.ts';
import type { RoutingDecision } from '../routing/decide.ts';
import type { RulesReader } from '../rules/active-rules.ts';
import { decideUnderRules } from '../rules/rules-decision.ts';
import { decideWithCapacity, type RouterCapacity } from './decide-with-capacity.ts';
import { decideWithHealth, type RouterHealth } from './decide-with-health.ts';
import { handleCommand } from './handle-command.ts';

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

export interface ReviseRoutingDependencies {
  readonly log: RoutingLog;
  readonly rules: RulesReader;
  readonly health?: RouterHealth;
  /** The slot ledger: a revision to a provider with a `concurrency` takes one of its slots. */
  readonly capacity?: RouterCapacity;
}

export type ReviseRoutingResult =
  | { readonly outcome: 'revised' | 'duplicate'; readonly record: RoutingRevisedRecord }
  | {
      readonly outcome: 'ignored';
      readonly why:
        | 'not_terminal'
        | 'job_side_failure'
        | 'no_routed_decision'
        | 'not_current'
        | 'closed'
        | 'content_erased';
    };

const ignored = (why: Extract<ReviseRoutingResult, { outcome: 'ignored' }>['why']): ReviseRoutingResult => ({
  outcome: 'ignored',
  why,
});

/** What the stream says about the failed attempt, before any re-decision (pure). */
export type RevisionPlan =
  | { readonly kind: 'ignored'; readonly why: Extract<ReviseRoutingResult, { outcome: 'ignored' }>['why'] }
  | {
      readonly kind: 'revise';
      readonly version: number;
      readonly at: string;
      readonly revises: number;
      readonly revisions: number;
      readonly original: RoutingDecidedRecord;
      readonly dispatches: readonly JobDispatch[];
      /** An `auto` job with revisions left: decided again under the rules in force. */
      readonly redecide: boolean;
    };

/**
 * After a lost race, another record took the version this revision wanted: the failed dispatch is
 * no longer the job's current one (fencing), so nothing is revised.
 */
const fenced = (plan: RevisionPlan): RevisionPlan =>
  plan.kind === 'revise' ? { kind: 'ignored', why: 'not_current' } : plan;

/** Pure: what the job's state says about a failed attempt, before any re-decision. */
export function planRevision(job: JobState, attempt: FailedAttempt): RevisionPlan {
  const { dispatches } = job;
  const current = dispatches.at(-1);
  if (!current) return { kind: 'ignored', why: 'no_routed_decision' };
  // A done job (completed anywhere, failed, rejected) is never moved again: nobody is paid twice.
  if (job.closed || job.done) return { kind: 'ignored', why: 'closed' };
  if (job.erasure) return { kind: 'ignored', why: 'content_erased' };
  if (attempt.dispatchId !== dispatchIdOf(attempt.jobId, current.version))
    return { kind: 'ignored', why: 'not_current' };
  const revisions = job.revisions.length;
  const original = current.decision;
  const explicit = original.data.explanation.requestedProvider !== 'auto';
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

/** Pure: the RoutingRevised record, given the plan and (for an `auto` job) the new decision. */
function revisionOf(
  plan: Extract<RevisionPlan, { kind: 'revise' }>,
  attempt: FailedAttempt,
  made: RoutingDecision | undefined,
): RoutingRevisedRecord {
  const { original } = plan;
  let decision: DecisionRecord;
  if (original.data.explanation.requestedProvider !== 'auto') {
    decision = rejection(original, 'provider_failed', plan.at);
  } else if (!made) {
    decision = rejection(original, 'retries_exhausted', plan.at);
  } else {
    decision =
      made.outcome === 'routed'
        ? {
            type: 'RoutingDecided',
            data: {
              ...original.data,
              provider: made.provider,
              model: made.model,
              queue: made.queue,
              estimatedCost: made.estimatedCost,
              explanation: made.explanation,
            },
            metadata: { ...original.metadata, recordedAt: plan.at },
          }
        : // The rule named is the one whose candidates are exhausted (the failed dispatch's), not
          // the table's fall-through rule the re-decision ended on; its candidates stay listed.
          rejection(original, 'retries_exhausted', plan.at, {
            ...made.explanation,
            matchedRule: original.data.explanation.matchedRule,
          });
  }
  return {
    type: 'RoutingRevised',
    data: {
      revision: plan.revisions + 1,
      revises: plan.revises,
      failedDispatchId: attempt.dispatchId,
      failedProvider: attempt.provider,
      failedModel: attempt.model,
      causedBy: attempt.signalId,
      decision,
    },
    metadata: {
      stream: original.metadata.stream,
      version: plan.version,
      recordedAt: plan.at,
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: attempt.jobId,
    },
  };
}

/** The read step's answer: a revision another report made meanwhile, or the job and its plan. */
type RevisionRead =
  | { readonly duplicate: RoutingRevisedRecord }
  | { readonly plan: RevisionPlan; readonly made: RoutingDecision | undefined; readonly job: JobState };

/**
 * One handleCommand: read the job's stream (and, for an `auto` job, decide again under health) →
 * decide the revision (pure) → append it at version n+1. A taken version is read once more: when
 * another report of the same failure revised the job first, that revision stands (`duplicate`);
 * any other record there makes the failed dispatch no longer current (fencing).
 */
export async function reviseRouting(
  attempt: FailedAttempt,
  deps: ReviseRoutingDependencies,
): Promise<ReviseRoutingResult> {
  if (attempt.outcome !== 'failed_terminal') return ignored('not_terminal');
  // The job's own fault (content_policy, invalid_request, an unclassified failure) is not moved:
  // another provider would be paid to refuse it too. Its verdict is recorded (recordDispatchOutcome).
  if (!isProviderSideFailure(attempt.errorClass ?? null)) return ignored('job_side_failure');
  return handleCommand<RevisionRead, ReviseRoutingResult | RoutingRevisedRecord, ReviseRoutingResult>({
    read: async (conflict): Promise<RevisionRead> => {
      // Another report of the same failure revised the job first: that revision stands.
      const taken = conflict?.existing as RoutingLogRecord | undefined;
      if (taken?.type === 'RoutingRevised') return { duplicate: taken };
      const job = jobStateOf(await deps.log.readStream(streamForJob(attempt.jobId)));
      const plan = conflict ? fenced(planRevision(job, attempt)) : planRevision(job, attempt);
      const made =
        plan.kind === 'revise' && plan.redecide
          ? await redecide(plan.original, plan.dispatches, attempt, plan.version, deps)
          : undefined;
      return { plan, made, job };
    },
    decide: (read) => {
      if ('duplicate' in read) return { outcome: 'duplicate' as const, record: read.duplicate };
      return read.plan.kind === 'ignored'
        ? ignored(read.plan.why)
        : revisionOf(read.plan, attempt, read.made);
    },
    append: async (decided, read): Promise<ReviseRoutingResult> => {
      if (!('type' in decided)) return decided;
      const expectedVersion = 'job' in read ? read.job.version : decided.metadata.version - 1;
      await deps.log.appendToStream(decided.metadata.stream, [decided], { expectedVersion });
      return { outcome: 'revised', record: decided };
    },
  });
}

async function redecide(
  original: RoutingDecidedRecord,
  dispatches: readonly JobDispatch[],
  attempt: FailedAttempt,
  version: number,
  deps: ReviseRoutingDependencies,
): Promise<RoutingDecision> {
  const rules = await deps.rules.current();
  // The routing facts of the job (its content may be sealed; decisions never read the content).
  const job = JSON.parse(original.data.job) as JobSubmission;
  const alreadyTried = [
    ...new Set([
      ...dispatches.map(({ decision }) => `${decision.data.provider}#${decision.data.model}`),
      `${attempt.provider}#${attempt.model ?? original.data.model}`,
    ]),
  ];
  const providers = { ...rules.canary?.table.providers, ...rules.table.providers };
  const at = new Date(attempt.at);
  const dispatchId = dispatchIdOf(attempt.jobId, version);
  // The revised dispatch takes a slot like a first one (its id is the revision's version: a duplicate
  // report of the same failure finds it already held).
  const {
    made: { decision },
  } = await decideWithCapacity(
    providers,
    (capacity) =>
      decideWithHealth(
        providers,
        // Credits are not read again: a rule that requires them fails closed for a revision.
        (health) =>
          decideUnderRules(job, rules, undefined, [], {
            alreadyTried,
            ...(health ? { health } : {}),
            ...(capacity ? { capacity } : {}),
          }),
        deps.health,
        at,
        dispatchId,
      ),
    deps.capacity,
    at,
    dispatchId,
  );
  return decision;
}

function rejection(
  original: RoutingDecidedRecord,
  reason: 'retries_exhausted' | 'provider_failed',
  at: string,
  explanation = original.data.explanation,
): RoutingRejectedRecord {
  const {
    provider: _provider,
    model: _model,
    queue: _queue,
    estimatedCost: _cost,
    outcome: _outcome,
    ...rest
  } = original.data;
  return {
    type: 'RoutingRejected',
    data: {
      ...rest,
      outcome: 'rejected',
      reason,
      requestedProvider: original.data.explanation.requestedProvider,
      fieldErrors: [],
      explanation,
    },
    metadata: { ...original.metadata, recordedAt: at },
  };
}
