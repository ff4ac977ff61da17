/**
 * Replay planning: the pure half of `routing-manager replay`. A replay re-drives the projection of
 * decisions (after a provider outage lost their messages) by appending one
 * `ProjectionReplayRequested` record per job at the stream's next version; the projector plans that
 * record's effects with the new version in every id, so the provider sees a new dispatch id.
 *
 * Identity: a replay is named by the operator's **incident key** (`--incident INC-2291`), never by
 * the window or the clock. The replayId is a hash of the key alone, and a job's stream holds at most
 * one replay record per replayId: however the window is written (`1h`, open-ended, absolute), and
 * however often the command runs, a job is re-sent at most once per incident. The record's version
 * (hence its dispatch id) follows from the stream as read, so a dry run on an unchanged stream
 * reports exactly the ids the real run appends.
 */

import { createHash } from 'node:crypto';
import { RoutingManagerError } from '../errors.ts';
import { type CurrentRouting, type DoneReason, type JobState, nextRecordMetadata } from '../log/job-state.ts';
import type {
  ContentWithheldReason,
  DecisionRecord,
  ProjectionReplayRequestedRecord,
} from '../log/routing-records.ts';
import type { OutcomeFilter } from '../queries/decision-filter.ts';
import type { IncidentAuthor } from './incident-batch.ts';

/** Letters, digits and `. _ : / # -`, starting with a letter or digit: a ticket id, not prose. */
const INCIDENT_KEY = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,127}$/;

export class InvalidIncidentKeyError extends RoutingManagerError {
  constructor(message: string) {
    super('invalid_incident_key', message);
    this.name = 'InvalidIncidentKeyError';
  }
}

/**
 * The incident key as given (trimmed), or a typed error. Case is kept: `INC-1` and `inc-1` are
 * different incidents, exactly as typed in the ticket system.
 */
export function parseIncidentKey(text: string): string {
  const key = text.trim();
  if (!INCIDENT_KEY.test(key)) {
    throw new InvalidIncidentKeyError(
      '--incident must be an incident key such as INC-2291 (1 to 128 letters, digits or . _ : / # -, ' +
        'starting with a letter or digit); put free text in --why',
    );
  }
  return key;
}

/** Deterministic: the same incident key gives the same id, whoever asks, whenever, whatever window. */
export function replayIdOf(incident: string): string {
  return `replay-${createHash('sha256').update(incident).digest('hex').slice(0, 24)}`;
}

export interface ReplaySelection {
  /** The providers whose decisions are re-projected (routed to them, or rejections filed under them). */
  readonly providers: readonly string[];
  /** Which decisions of the window are re-projected; a replay after an outage wants `routed`. */
  readonly outcome: OutcomeFilter;
}

/**
 * Whether a decision found in the window may lead to a job the replay re-sends. A routed replay
 * selects by the job's **current** dispatch, which a re-routing may have moved to another provider
 * than its decision's: every `auto` decision is a candidate (its stream says where it is now), an
 * explicit one only at a selected provider (an explicit choice is never switched).
 */
export function isReplayed(decision: DecisionRecord, selection: ReplaySelection): boolean {
  if (decision.data.outcome !== selection.outcome || decision.metadata.jobId === null) return false;
  if (decision.type === 'RoutingDecided') {
    return (
      selection.providers.includes(decision.data.provider) ||
      decision.data.explanation.requestedProvider === 'auto'
    );
  }
  return selection.providers.includes(decision.data.requestedProvider);
}

/**
 * Why a job found in the window is not re-sent: it is done (`completed`, `failed`, `rejected`:
 * paying again needs `--pay-again-for`), its current dispatch is at a provider not selected
 * (`dispatched_elsewhere`, e.g. re-routed away from the provider that had the outage), or it is
 * `held`: its dispatch failed and its re-routing waits for a slot — the Holds function dispatches
 * it when one frees, so re-sending the failed dispatch now would pay two providers for one job.
 */
export type ReplaySkipReason = DoneReason | 'dispatched_elsewhere' | 'held';

export interface ReplayPolicy {
  readonly selection: ReplaySelection;
  /** The jobs the operator named to be re-sent although they are done (`--pay-again-for`). */
  readonly payAgainFor: ReadonlySet<string>;
}

export type ReplayStep =
  | { readonly action: 'append'; readonly record: ProjectionReplayRequestedRecord }
  | { readonly action: 'already_replayed'; readonly record: ProjectionReplayRequestedRecord }
  | { readonly action: 'skipped'; readonly reason: ReplaySkipReason; readonly current: CurrentRouting }
  /** Found in the window, but never selected: its dispatches were all elsewhere (not reported). */
  | { readonly action: 'not_selected' }
  | { readonly action: 'no_decision' };

const filedUnder = (decision: DecisionRecord): string =>
  decision.type === 'RoutingDecided' ? decision.data.provider : decision.data.requestedProvider;

/** What a replay re-sends: a routing record's version and decision, and its re-routings. */
interface ReplayTarget {
  readonly version: number;
  readonly decision: DecisionRecord;
  readonly revision: number;
}

/**
 * What to do for one job, given its stream's state as read now: skip it if it already holds a
 * replay of this incident; otherwise re-send its **current** dispatch (the last decision, replay or
 * re-routing — not its first decision) when that is at a selected provider and the job is not
 * done, or when the operator named it with `--pay-again-for`; otherwise skip it and say why.
 */
export function planReplayStep(
  job: JobState,
  author: IncidentAuthor,
  contentWithheld: ContentWithheldReason | undefined,
  policy: ReplayPolicy,
): ReplayStep {
  const replayId = replayIdOf(author.incident);
  const done = job.replays.find((record) => record.data.replayId === replayId);
  if (done) return { action: 'already_replayed', record: done };
  const { current, decision } = job;
  if (!current || !decision || decision.metadata.jobId === null) return { action: 'no_decision' };
  const jobId = decision.metadata.jobId;
  const { providers, outcome } = policy.selection;
  const everSelected = job.dispatches.some((dispatch) => providers.includes(dispatch.decision.data.provider));
  const lastRouted = job.dispatches.at(-1) ?? null;

  let target: ReplayTarget | null;
  let paidAgain: DoneReason | undefined;
  if (outcome === 'rejected') {
    // Re-announcing a rejection pays nobody: only the current decision, if it is a rejection.
    if (current.decision.type !== 'RoutingRejected') return { action: 'not_selected' };
    target = { ...current, revision: 0 };
  } else {
    const reason = job.done?.reason;
    if (reason && !policy.payAgainFor.has(jobId))
      return everSelected ? { action: 'skipped', reason, current } : { action: 'not_selected' };
    if (reason) paidAgain = reason;
    else if (job.held)
      return everSelected ? { action: 'skipped', reason: 'held', current } : { action: 'not_selected' };
    // The current dispatch (a routed current routing is the last dispatch); for a done job named
    // to be paid again whose current routing is a rejection, its last routed one.
    target = lastRouted;
    if (!target) return { action: 'not_selected' };
  }
  if (!providers.includes(filedUnder(target.decision))) {
    return everSelected && outcome === 'routed'
      ? { action: 'skipped', reason: 'dispatched_elsewhere', current }
      : { action: 'not_selected' };
  }
  return {
    action: 'append',
    record: {
      type: 'ProjectionReplayRequested',
      data: {
        replayId,
        incident: author.incident,
        requestedBy: author.requestedBy,
        why: author.why,
        replayOf: target.version,
        decision: target.decision,
        previousDispatchId: lastRouted ? `${jobId}:v${lastRouted.version}` : null,
        revision: target.revision,
        ...(paidAgain ? { paidAgain } : {}),
        ...(contentWithheld ? { contentWithheld } : {}),
      },
      metadata: { ...nextRecordMetadata({ ...job, decision }, author.at), jobId },
    },
  };
}
