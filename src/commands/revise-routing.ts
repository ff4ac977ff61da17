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
 *     (as does a failure when no untried provider is left);
 *   - the job is decided again exactly as a first decision is (decide-job.ts: quotes, health, a slot
 *     taken), so an `auto` job prefers a candidate with a free slot, and when every candidate left is
 *     full under a rule that holds, the job is **held** (hold-job.ts): a RoutingDeferred at version
 *     n+1 names the failure, the job waits in its providers' lines, and the RoutingRevised that ends
 *     the hold is appended by the Holds function when a slot frees or the hold runs out.
 *
 * The pure part (the plan, the records) is src/commands/revision-plan.ts.
 */
import { type JobState, jobStateOf } from '../log/job-state.ts';
import {
  type RoutingDeferredRecord,
  type RoutingLogRecord,
  type RoutingRevisedRecord,
  streamForJob,
} from '../log/routing-records.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { dispatchIdOf } from '../projections/effects.ts';
import { isProviderSideFailure } from '../provider-health/breaker.ts';
import type { RoutingDecision, RoutingFacts } from '../routing/decide.ts';
import type { RulesReader } from '../rules/active-rules.ts';
import { decidingTableOf } from '../rules/rules-decision.ts';
import { decideJob, type JobDecisionPorts, providersOf } from './decide-job.ts';
import { type HeldSlot, type RouterCapacity, returnUnusedSlot } from './decide-with-capacity.ts';
import type { RouterHealth } from './decide-with-health.ts';
import { handleCommand } from './handle-command.ts';
import { type HoldPlan, holdIfFull, keepHeld, leaveLines } from './hold-job.ts';
import {
  alreadyTriedOf,
  type FailedAttempt,
  fenced,
  planRevision,
  type RevisionIgnoredWhy,
  type RevisionPlan,
  rerouteDeferralOf,
  revisionRecordOf,
} from './revision-plan.ts';

export {
  type DispatchReport,
  type FailedAttempt,
  laterOf,
  MAX_REVISIONS,
  planRevision,
} from './revision-plan.ts';

export interface ReviseRoutingDependencies extends JobDecisionPorts {
  readonly log: RoutingLog;
  readonly rules: RulesReader;
  readonly health?: RouterHealth;
  /**
   * The slot ledger: a revision to a provider with a `concurrency` takes one of its slots; with the
   * hold backlog, a re-routing that finds every candidate left full is held instead of rejected.
   */
  readonly capacity?: RouterCapacity;
}

export type ReviseRoutingResult =
  | { readonly outcome: 'revised' | 'duplicate'; readonly record: RoutingRevisedRecord }
  /** Every candidate left was full: the job is held (`duplicate`: by an earlier report of this failure). */
  | { readonly outcome: 'held'; readonly record: RoutingDeferredRecord; readonly duplicate: boolean }
  | { readonly outcome: 'ignored'; readonly why: RevisionIgnoredWhy };

const ignored = (why: RevisionIgnoredWhy): ReviseRoutingResult => ({ outcome: 'ignored', why });

/** The read step's answer: a record another report made meanwhile, or the job and its plan. */
type RevisionRead =
  | { readonly duplicate: RoutingRevisedRecord }
  | { readonly heldBefore: RoutingDeferredRecord }
  | {
      readonly plan: RevisionPlan;
      readonly made: RoutingDecision | undefined;
      readonly hold: HoldPlan | undefined;
      readonly job: JobState;
    };

/**
 * One handleCommand: read the job's stream (and, for an `auto` job, decide again as a first
 * decision would) → decide the revision or the deferral (pure) → append it at version n+1. A taken
 * version is read once more: when another report of the same failure revised (or held) the job
 * first, that record stands (`duplicate`); any other record there makes the failed dispatch no
 * longer current (fencing). Afterwards a held job is in its lines with its recheck sent (again, on
 * a duplicate: a handler that stopped before the send loses nothing), and a slot or line entry this
 * attempt took for a record it did not append is given back.
 */
export async function reviseRouting(
  attempt: FailedAttempt,
  deps: ReviseRoutingDependencies,
): Promise<ReviseRoutingResult> {
  if (attempt.outcome !== 'failed_terminal') return ignored('not_terminal');
  // The job's own fault (content_policy, invalid_request, an unclassified failure) is not moved:
  // another provider would be paid to refuse it too. Its verdict is recorded (recordDispatchOutcome).
  if (!isProviderSideFailure(attempt.errorClass ?? null)) return ignored('job_side_failure');
  let slot: HeldSlot | undefined;
  let joined: HoldPlan | undefined;
  const result = await handleCommand<
    RevisionRead,
    ReviseRoutingResult | RoutingRevisedRecord | RoutingDeferredRecord,
    ReviseRoutingResult
  >({
    read: async (conflict): Promise<RevisionRead> => {
      // Another report of the same failure revised (or held) the job first: that record stands.
      const taken = conflict?.existing as RoutingLogRecord | undefined;
      if (taken?.type === 'RoutingRevised') return { duplicate: taken };
      if (taken?.type === 'RoutingDeferred' && taken.reroute?.failedDispatchId === attempt.dispatchId)
        return { heldBefore: taken };
      const job = jobStateOf(await deps.log.readStream(streamForJob(attempt.jobId)));
      const plan = conflict ? fenced(planRevision(job, attempt)) : planRevision(job, attempt);
      if (plan.kind !== 'revise' || !plan.redecide) return { plan, made: undefined, hold: undefined, job };
      const rules = await deps.rules.current();
      const at = new Date(plan.at);
      const decided = await decideJob(
        {
          // The routing facts of the job (its content may be sealed; decisions never read the content).
          job: JSON.parse(plan.original.job) as RoutingFacts,
          rules,
          // Credits are not read again: a rule that requires them fails closed for a revision.
          alreadyTried: alreadyTriedOf(plan.dispatches, attempt, plan.original),
          now: at,
          // The revised dispatch takes a slot like a first one (its id is the revision's version: a
          // duplicate report of the same failure finds it already held).
          dispatchId: dispatchIdOf(attempt.jobId, plan.version),
        },
        deps,
      );
      slot = decided.slot;
      const hold = await holdIfFull(
        decided.made.decision,
        decidingTableOf(rules, attempt.jobId),
        providersOf(rules),
        { jobId: attempt.jobId, sinceMs: at.getTime() },
        deps.capacity,
      );
      joined = hold;
      return { plan, made: decided.made.decision, hold, job };
    },
    decide: (read) => {
      if ('duplicate' in read) return { outcome: 'duplicate' as const, record: read.duplicate };
      if ('heldBefore' in read) return { outcome: 'held' as const, record: read.heldBefore, duplicate: true };
      const { plan, made, hold } = read;
      if (plan.kind === 'ignored') return ignored(plan.why);
      if (plan.kind === 'held') return { outcome: 'held' as const, record: plan.deferral, duplicate: true };
      if (hold && made) return rerouteDeferralOf(plan, attempt, made.explanation, hold);
      return revisionRecordOf(plan, attempt, made);
    },
    append: async (decided, read): Promise<ReviseRoutingResult> => {
      if (!('type' in decided)) return decided;
      const expectedVersion = 'job' in read ? read.job.version : decided.version - 1;
      await deps.log.appendToStream(decided.stream, [decided], { expectedVersion });
      return decided.type === 'RoutingDeferred'
        ? { outcome: 'held', record: decided, duplicate: false }
        : { outcome: 'revised', record: decided };
    },
  });
  await settleRevision(result, { slot, joined }, attempt, deps);
  return result;
}

/**
 * After the revision (or deferral) is on record, whoever wrote it: a held job joins its lines
 * (idempotent) and gets its recheck; a slot this attempt took is given back unless the recorded
 * revision holds it (same dispatchId: another report's take found it `already_held`); lines this
 * attempt joined for a job that was not held are left.
 */
async function settleRevision(
  result: ReviseRoutingResult,
  taken: { readonly slot: HeldSlot | undefined; readonly joined: HoldPlan | undefined },
  attempt: FailedAttempt,
  deps: ReviseRoutingDependencies,
) {
  const { slot, joined } = taken;
  const recorded = result.outcome === 'revised' || result.outcome === 'duplicate' ? result.record : undefined;
  const holdsSlot =
    slot !== undefined &&
    recorded?.decision.type === 'RoutingDecided' &&
    recorded.decision.provider === slot.provider &&
    dispatchIdOf(recorded.jobId, recorded.version) === slot.dispatchId;
  if (!holdsSlot) await returnUnusedSlot(deps.capacity, slot);
  const capacity = deps.capacity;
  if (!capacity?.backlog || (result.outcome !== 'held' && !joined)) return;
  const providers = providersOf(await deps.rules.current());
  if (result.outcome === 'held')
    await keepHeld(
      result.record,
      providers,
      capacity,
      new Date(attempt.at),
      result.duplicate || !joined ? 'check' : 'joined',
    );
  // Lines joined for a deferral that is not the one on record (another report's stands) are left.
  const strayLines = (joined?.waitingFor ?? []).filter(
    (provider) => result.outcome !== 'held' || !result.record.waitingFor.includes(provider),
  );
  if (strayLines.length > 0) await leaveLines(capacity.ledger, attempt.jobId, strayLines, providers);
}
