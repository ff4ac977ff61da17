/**
 * Replay planning: the pure half of `routing-manager replay`. A replay re-drives the projection of
 * decisions (after a provider outage lost their messages) by appending one
 * `ProjectionReplayRequested` record per job at the stream's next version; the projector plans that
 * record's effects with the new version in every id, so the provider sees a new dispatch id.
 *
 * Idempotency: the replayId is a hash of what the operator asked for — the same provider, window
 * and outcome filter always give the same id — and a stream that already holds a record with that
 * replayId is skipped. The append itself is conditional on the version (see replay command).
 */
import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import {
  type DecisionRecord,
  isDecision,
  type ProjectionReplayRequestedRecord,
  RECORD_SCHEMA_VERSION,
  type RoutingLogRecord,
} from '../log/routing-records.ts';
import type { AuditWindow } from './audit-window.ts';
import type { OutcomeFilter } from './decision-filter.ts';

export interface ReplayRequest {
  readonly provider: string;
  readonly window: AuditWindow;
  /** Which decisions of the window are re-projected; a replay after an outage wants `routed`. */
  readonly outcome: OutcomeFilter;
}

export interface ReplayAuthor {
  readonly requestedBy: string;
  readonly why: string;
  /** When the replay was requested (ISO), recorded as the record's recordedAt. */
  readonly at: string;
}

/** Deterministic: same provider, window and outcome filter → same id, whoever asks and whenever. */
export function replayIdOf(request: ReplayRequest): string {
  // An object always stringifies to a string (undefined comes only from functions and symbols).
  const canonical = stringify({
    provider: request.provider,
    since: request.window.since,
    until: request.window.until,
    outcome: request.outcome,
  }) as string;
  return `replay-${createHash('sha256').update(canonical).digest('hex').slice(0, 24)}`;
}

/** Whether a decision found in the window is one the replay re-drives. */
export function isReplayed(decision: DecisionRecord, request: ReplayRequest): boolean {
  if (decision.outcome !== request.outcome || decision.jobId === null) return false;
  const filedUnder = decision.type === 'RoutingDecided' ? decision.provider : decision.requestedProvider;
  return filedUnder === request.provider;
}

export type ReplayStep =
  | { readonly action: 'append'; readonly record: ProjectionReplayRequestedRecord }
  | { readonly action: 'already_replayed'; readonly version: number }
  | { readonly action: 'no_decision' };

/**
 * What to do for one job, given its stream as read now: skip it if this replay is already in it,
 * otherwise append the replay record at the next version, carrying a copy of the decision.
 */
export function planReplayStep(
  stream: readonly RoutingLogRecord[],
  replayId: string,
  author: ReplayAuthor,
): ReplayStep {
  const done = stream.find(
    (record) => record.type === 'ProjectionReplayRequested' && record.replayId === replayId,
  );
  if (done) return { action: 'already_replayed', version: done.version };
  const decision = stream.find((record) => record.version === 1);
  if (!decision || !isDecision(decision) || decision.jobId === null) {
    return { action: 'no_decision' };
  }
  const version = Math.max(...stream.map((record) => record.version)) + 1;
  return {
    action: 'append',
    record: {
      stream: decision.stream,
      version,
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: decision.jobId,
      recordedAt: author.at,
      type: 'ProjectionReplayRequested',
      replayId,
      requestedBy: author.requestedBy,
      why: author.why,
      replayOf: decision.version,
      decision,
    },
  };
}
