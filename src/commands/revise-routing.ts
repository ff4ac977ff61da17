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
import type { RoutingDecision } from '../routing/decide.ts';
import type { RulesReader } from '../rules/active-rules.ts';
import { decideUnderRules } from '../rules/rules-decision.ts';
import { decideWithHealth, type RouterHealth } from './decide-with-health.ts';

export const MAX_REVISIONS = 2;

export interface FailedAttempt {
  /** The failure signal's event id. */
  readonly signalId: string;
  readonly at: string;
  readonly jobId: string;
  readonly dispatchId: string;
  readonly provider: string;
  readonly model: string | null;
  readonly outcome: string;
}

export interface ReviseRoutingDependencies {
  readonly log: RoutingLog;
  readonly rules: RulesReader;
  readonly health?: RouterHealth;
}

export type ReviseRoutingResult =
  | { readonly outcome: 'revised' | 'duplicate'; readonly record: RoutingRevisedRecord }
  | {
      readonly outcome: 'ignored';
      readonly why: 'not_terminal' | 'no_routed_decision' | 'not_current' | 'closed' | 'content_erased';
    };

const ignored = (why: Extract<ReviseRoutingResult, { outcome: 'ignored' }>['why']): ReviseRoutingResult => ({
  outcome: 'ignored',
  why,
});

/** The records that sent the job somewhere, by version: the decision, replays and routed revisions. */
function dispatchesOf(
  stream: readonly RoutingLogRecord[],
): { version: number; decision: RoutingDecidedRecord }[] {
  return stream.flatMap((record) => {
    const decision =
      record.type === 'RoutingDecided'
        ? record
        : record.type === 'ProjectionReplayRequested' || record.type === 'RoutingRevised'
          ? record.decision
          : null;
    return decision?.type === 'RoutingDecided' ? [{ version: record.version, decision }] : [];
  });
}

export async function reviseRouting(
  attempt: FailedAttempt,
  deps: ReviseRoutingDependencies,
): Promise<ReviseRoutingResult> {
  if (attempt.outcome !== 'failed_terminal') return ignored('not_terminal');
  const stream = await deps.log.readStream(streamForJob(attempt.jobId));
  const dispatches = dispatchesOf(stream);
  const current = dispatches.at(-1);
  if (!current) return ignored('no_routed_decision');
  const last = stream.at(-1) as RoutingLogRecord;
  if (last.type === 'RoutingRevised' && last.decision.type === 'RoutingRejected') return ignored('closed');
  if (last.type === 'ContentErased') return ignored('content_erased');
  if (attempt.dispatchId !== dispatchIdOf(attempt.jobId, current.version)) return ignored('not_current');

  const version = last.version + 1;
  const revisions = stream.filter((record) => record.type === 'RoutingRevised').length;
  const original = current.decision;
  const explicit = original.explanation.requestedProvider !== 'auto';
  let decision: DecisionRecord;
  if (explicit) {
    decision = rejection(original, 'provider_failed', attempt.at);
  } else if (revisions >= MAX_REVISIONS) {
    decision = rejection(original, 'retries_exhausted', attempt.at);
  } else {
    const made = await redecide(original, dispatches, attempt, version, deps);
    decision =
      made.outcome === 'routed'
        ? {
            ...original,
            recordedAt: attempt.at,
            provider: made.provider,
            model: made.model,
            queue: made.queue,
            estimatedCost: made.estimatedCost,
            explanation: made.explanation,
          }
        : rejection(original, 'retries_exhausted', attempt.at, made.explanation);
  }
  const record: RoutingRevisedRecord = {
    stream: original.stream,
    version,
    schemaVersion: RECORD_SCHEMA_VERSION,
    jobId: attempt.jobId,
    recordedAt: attempt.at,
    type: 'RoutingRevised',
    revision: revisions + 1,
    revises: current.version,
    failedDispatchId: attempt.dispatchId,
    failedProvider: attempt.provider,
    failedModel: attempt.model,
    causedBy: attempt.signalId,
    decision,
  };
  const appended = await deps.log.append(record);
  if (appended.status === 'appended') return { outcome: 'revised', record };
  // Another report of the same failure (or a concurrent one) revised the job first.
  const existing = appended.existing;
  return existing.type === 'RoutingRevised'
    ? { outcome: 'duplicate', record: existing }
    : ignored('not_current');
}

async function redecide(
  original: RoutingDecidedRecord,
  dispatches: readonly { decision: RoutingDecidedRecord }[],
  attempt: FailedAttempt,
  version: number,
  deps: ReviseRoutingDependencies,
): Promise<RoutingDecision> {
  const rules = await deps.rules.current();
  // The routing facts of the job (its content may be sealed; decisions never read the content).
  const job = JSON.parse(original.job) as JobSubmission;
  const alreadyTried = [
    ...new Set([
      ...dispatches.map(({ decision }) => `${decision.provider}#${decision.model}`),
      `${attempt.provider}#${attempt.model ?? original.model}`,
    ]),
  ];
  const { decision } = await decideWithHealth(
    { ...rules.canary?.table.providers, ...rules.table.providers },
    // Credits are not read again: a rule that requires them fails closed for a revision.
    (health) => decideUnderRules(job, rules, undefined, [], { alreadyTried, ...(health ? { health } : {}) }),
    deps.health,
    new Date(attempt.at),
    dispatchIdOf(attempt.jobId, version),
  );
  return decision;
}

function rejection(
  original: RoutingDecidedRecord,
  reason: 'retries_exhausted' | 'provider_failed',
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
