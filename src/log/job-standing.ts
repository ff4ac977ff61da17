/**
 * Where a job stands, folded from its stream: its **current** dispatch (the last record that
 * projects a decision: the decision, a replay or a revision — never a re-drive, which completes an
 * existing one under its own ids) and whether the job is **done**. One fold, handed to every
 * decider that must not pay a provider twice (replay, re-drive, re-routing) and to the CLI.
 *
 * Done means no provider should ever be paid for the job again unless an operator says so:
 *   - `completed`: a provider reported success for any of its dispatches;
 *   - `failed`: it failed terminally for its own reason (a `DispatchOutcomeRecorded` failure), or
 *     the explicitly requested provider failed it (`provider_failed`, never switched);
 *   - `rejected`: its current decision is a rejection (at intake, or `retries_exhausted`).
 *
 * Pure: no I/O, no clock. Records are folded in version order (how the log returns a stream).
 */
import type { DecisionRecord, RoutingDecidedRecord, RoutingLogRecord } from './routing-records.ts';

export type DispatchKind = 'decision' | 'replay' | 'reroute';
export type DoneReason = 'completed' | 'failed' | 'rejected';

export interface CurrentDispatch {
  /** The record's version: the dispatch's routingVersion (its dispatchId is `<jobId>:v<version>`). */
  readonly version: number;
  readonly kind: DispatchKind;
  readonly decision: DecisionRecord;
  /** The dispatch before this one (what it supersedes), null for the decision. */
  readonly previousDispatchId: string | null;
  /** Re-routings behind this dispatch: 0 for the decision and its replays. */
  readonly revision: number;
  /** The record's recordedAt (a replay's is when it was asked for). */
  readonly recordedAt: string;
}

export interface JobStanding {
  readonly jobId: string | null;
  readonly current: CurrentDispatch | null;
  /** The last current dispatch that was routed (what a paid re-send would send again). */
  readonly lastRouted: (CurrentDispatch & { readonly decision: RoutingDecidedRecord }) | null;
  /** Every dispatch id the job was ever routed under, oldest first. */
  readonly dispatchIds: readonly string[];
  /** Every provider the job was ever routed to, in first-dispatch order. */
  readonly providers: readonly string[];
  readonly done: { readonly reason: DoneReason; readonly version: number } | null;
  readonly revisions: number;
  readonly erased: boolean;
  /** The stream's last version and recordedAt (0 and null for an empty stream). */
  readonly lastVersion: number;
  readonly lastRecordedAt: string | null;
}

export const initialJobStanding: JobStanding = {
  jobId: null,
  current: null,
  lastRouted: null,
  dispatchIds: [],
  providers: [],
  done: null,
  revisions: 0,
  erased: false,
  lastVersion: 0,
  lastRecordedAt: null,
};

const dispatchIdOf = (jobId: string, version: number): string => `${jobId}:v${version}`;

const previousOf = (standing: JobStanding): string | null =>
  standing.current && standing.jobId ? dispatchIdOf(standing.jobId, standing.current.version) : null;

function withCurrent(standing: JobStanding, current: CurrentDispatch, jobId: string): JobStanding {
  const routed = current.decision.type === 'RoutingDecided';
  const rejected = current.decision.type === 'RoutingRejected' ? current.decision : null;
  // A done job stays done: a paid re-send on purpose does not undo its completion or failure.
  const done =
    standing.done ??
    (rejected
      ? {
          reason: rejected.reason === 'provider_failed' ? ('failed' as const) : ('rejected' as const),
          version: current.version,
        }
      : null);
  return {
    ...standing,
    jobId,
    current,
    lastRouted: routed ? (current as JobStanding['lastRouted']) : standing.lastRouted,
    dispatchIds: routed
      ? [...standing.dispatchIds, dispatchIdOf(jobId, current.version)]
      : standing.dispatchIds,
    providers:
      current.decision.type === 'RoutingDecided' && !standing.providers.includes(current.decision.provider)
        ? [...standing.providers, current.decision.provider]
        : standing.providers,
    done,
  };
}

export function evolveJobStanding(standing: JobStanding, record: RoutingLogRecord): JobStanding {
  const after = { ...standing, lastVersion: record.version, lastRecordedAt: record.recordedAt };
  switch (record.type) {
    case 'RoutingDecided':
    case 'RoutingRejected':
      if (record.jobId === null) return after;
      return withCurrent(
        after,
        {
          version: record.version,
          kind: 'decision',
          decision: record,
          previousDispatchId: null,
          revision: 0,
          recordedAt: record.recordedAt,
        },
        record.jobId,
      );
    case 'ProjectionReplayRequested':
      return withCurrent(
        after,
        {
          version: record.version,
          kind: 'replay',
          decision: record.decision,
          previousDispatchId: previousOf(standing),
          revision: record.revision ?? standing.current?.revision ?? 0,
          recordedAt: record.recordedAt,
        },
        record.jobId,
      );
    case 'RoutingRevised':
      return withCurrent(
        { ...after, revisions: standing.revisions + 1 },
        {
          version: record.version,
          kind: 'reroute',
          decision: record.decision,
          previousDispatchId: record.failedDispatchId,
          revision: record.revision,
          recordedAt: record.recordedAt,
        },
        record.jobId,
      );
    case 'DispatchOutcomeRecorded':
      if (standing.done) return after;
      return {
        ...after,
        done: { reason: record.outcome === 'succeeded' ? 'completed' : 'failed', version: record.version },
      };
    case 'ContentErased':
      return { ...after, erased: true };
    case 'ProjectionRedriveRequested':
    case 'ProviderHealthChanged':
      return after;
  }
}

/** The fold: a job's standing from its whole stream (version order). */
export const jobStanding = (stream: readonly RoutingLogRecord[]): JobStanding =>
  stream.reduce(evolveJobStanding, initialJobStanding);

/** Why a dispatch of this job must not be paid for again, if it must not (null: it may be sent). */
export function doneReasonOf(standing: JobStanding): DoneReason | null {
  return standing.done?.reason ?? null;
}
