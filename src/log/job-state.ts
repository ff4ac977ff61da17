/**
 * The one fold of a job's stream (Emmett's `evolve`): `evolveJob(state, record)` folds one record
 * of `job#<jobId>` (or `event#<eventId>`) into what every decider and reader of the job asks — the
 * decision recorded at version 1 (or, for a job held first, its deferral and whether it is still
 * held), the routing in force and the dispatches it caused, revisions,
 * replays, re-drives, erasure, whether the job's routing is closed, and whether the job is done
 * (completed, failed, rejected: never paid for again without an operator's `--pay-again-for`). `jobStateOf(records)` folds
 * a stream as read. Pure: built once per read and handed to the deciders (route, revise, replay,
 * re-drive, forget) and the readers (history, content status), so none of them re-scans records.
 */
import {
  type ContentErasedRecord,
  type DecisionRecord,
  type ProjectionRedriveRequestedRecord,
  type ProjectionReplayRequestedRecord,
  RECORD_SCHEMA_VERSION,
  type RedriveTarget,
  type RoutingDecidedRecord,
  type RoutingDeferredRecord,
  type RoutingLogRecord,
  type RoutingRevisedRecord,
} from './routing-records.ts';

/** A record that sent the job to a provider: its version is the dispatch's (`<jobId>:v<version>`). */
export interface JobDispatch {
  readonly version: number;
  readonly decision: RoutingDecidedRecord;
  /** Re-routings behind this dispatch: 0 for the decision (and its replays), then 1, 2. */
  readonly revision: number;
}

/**
 * Why no provider may be paid for the job again unless an operator names it (`--pay-again-for`):
 * `completed` (a provider reported success for any of its dispatches), `failed` (it failed
 * terminally for its own reason, or its explicitly requested provider failed it), `rejected` (the
 * routing in force is a rejection: at intake, `retries_exhausted`).
 */
export type DoneReason = 'completed' | 'failed' | 'rejected';

/** The routing in force: the latest decision, replay or revision, and the decision it carries. */
export interface CurrentRouting {
  readonly version: number;
  readonly decision: DecisionRecord;
  readonly record: DecisionRecord | ProjectionReplayRequestedRecord | RoutingRevisedRecord;
}

export interface JobState {
  /** The stream id; null before the first record. */
  readonly stream: string | null;
  /** The version of the last record (0: empty stream); the next record goes at `version + 1`. */
  readonly version: number;
  /**
   * The job's decision: the one recorded at version 1, or — for a job held first — the one that
   * ended its hold (null: no decision yet, e.g. a job still held, or a stream of health records).
   */
  readonly decision: DecisionRecord | null;
  /**
   * The job's latest deferral (null: it was never held): at version 1 for a job held first, or the
   * one of a re-routing that found every candidate left full (`reroute` set).
   */
  readonly deferral: RoutingDeferredRecord | null;
  /**
   * The job is held now: deferred and not yet decided (routed, or rejected at its maximum hold) —
   * for a re-routing's deferral, until the RoutingRevised that ends it.
   */
  readonly held: boolean;
  readonly current: CurrentRouting | null;
  /**
   * Every record that routed the job to a provider, in version order; the last is the current one
   * (fencing: only its dispatch may fail). A replay whose content was withheld is one, sending nothing.
   */
  readonly dispatches: readonly JobDispatch[];
  readonly revisions: readonly RoutingRevisedRecord[];
  readonly replays: readonly ProjectionReplayRequestedRecord[];
  readonly redrives: readonly ProjectionRedriveRequestedRecord[];
  /** The records whose effects the projector owes (decisions, replays that send, revisions). */
  readonly owed: readonly RedriveTarget[];
  readonly erasure: ContentErasedRecord | null;
  /** The routing in force is a revision's rejection: the job is finished, nothing re-routes it. */
  readonly closed: boolean;
  /**
   * The job is done (sticky: a paid re-send on purpose does not undo it); replay, re-drive and
   * re-routing never pay a provider for it again without the operator's flag.
   */
  readonly done: { readonly reason: DoneReason; readonly version: number } | null;
  /** The recordedAt of the last record (null: empty stream): later records are never earlier. */
  readonly lastRecordedAt: string | null;
}

export const initialJobState: JobState = {
  stream: null,
  version: 0,
  decision: null,
  deferral: null,
  held: false,
  current: null,
  dispatches: [],
  revisions: [],
  replays: [],
  redrives: [],
  owed: [],
  erasure: null,
  closed: false,
  done: null,
  lastRecordedAt: null,
};

/** The decision a routing record carries (its own for a decision). */
function routingOf(record: CurrentRouting['record']): DecisionRecord {
  return record.type === 'ProjectionReplayRequested' || record.type === 'RoutingRevised'
    ? record.decision
    : record;
}

/** Re-routings behind a routing record: a revision's own count, a replay's copy's, else 0. */
function revisionOf(state: JobState, record: CurrentRouting['record']): number {
  if (record.type === 'RoutingRevised') return record.revision;
  if (record.type === 'ProjectionReplayRequested')
    return record.revision ?? state.dispatches.find((d) => d.version === record.replayOf)?.revision ?? 0;
  return 0;
}

function withRouting(state: JobState, record: CurrentRouting['record'], owes: boolean): JobState {
  const decision = routingOf(record);
  const dispatches =
    decision.type === 'RoutingDecided'
      ? [...state.dispatches, { version: record.version, decision, revision: revisionOf(state, record) }]
      : state.dispatches;
  const rejected =
    decision.type === 'RoutingRejected' && decision.jobId !== null
      ? {
          reason: decision.reason === 'provider_failed' ? ('failed' as const) : ('rejected' as const),
          version: record.version,
        }
      : null;
  return {
    ...state,
    current: { version: record.version, decision, record },
    dispatches,
    owed: owes ? [...state.owed, record] : state.owed,
    closed: record.type === 'RoutingRevised' && decision.type === 'RoutingRejected',
    done: state.done ?? rejected,
  };
}

export function evolveJob(state: JobState, record: RoutingLogRecord): JobState {
  const next: JobState = {
    ...state,
    stream: record.stream,
    version: Math.max(state.version, record.version),
    lastRecordedAt:
      state.lastRecordedAt !== null && state.lastRecordedAt > record.recordedAt
        ? state.lastRecordedAt
        : record.recordedAt,
  };
  switch (record.type) {
    case 'RoutingDecided':
    case 'RoutingRejected':
      // The first decision is the job's: at version 1, or the one that ended a hold.
      return withRouting(
        next.decision === null && (record.version === 1 || next.deferral !== null)
          ? { ...next, decision: record, held: false }
          : next,
        record,
        record.jobId !== null,
      );
    case 'RoutingDeferred':
      // A re-routing's deferral holds a job that was decided before; a first one, a job never decided.
      if (record.reroute) return { ...next, deferral: record, held: true };
      return next.deferral ? next : { ...next, deferral: record, held: next.decision === null };
    case 'ProjectionReplayRequested':
      // A replay recorded with its content withheld sends nothing, so the projector owes it nothing;
      // it still supersedes the routing before it (fencing: an older dispatch is no longer current).
      return withRouting({ ...next, replays: [...next.replays, record] }, record, !record.contentWithheld);
    case 'RoutingRevised':
      // A revision ends a re-routing's hold (if the job was held by one).
      return withRouting({ ...next, revisions: [...next.revisions, record], held: false }, record, true);
    case 'ProjectionRedriveRequested':
      return { ...next, redrives: [...next.redrives, record] };
    case 'ContentErased':
      return { ...next, erasure: next.erasure ?? record };
    case 'DispatchOutcomeRecorded':
      return next.done
        ? next
        : {
            ...next,
            done: {
              reason: record.outcome === 'succeeded' ? 'completed' : 'failed',
              version: record.version,
            },
          };
    case 'ProviderHealthChanged':
      return next;
  }
}

/**
 * What every record appended after this state starts with: the stream, the next version (`offset`
 * counts records appended together), the job, when.
 */
export function nextRecordBase(
  job: JobState & { readonly decision: DecisionRecord },
  at: string,
  offset = 1,
) {
  return {
    stream: job.decision.stream,
    version: job.version + offset,
    schemaVersion: RECORD_SCHEMA_VERSION,
    jobId: job.decision.jobId,
    recordedAt: at,
  };
}

/** The state of a stream as read (records in version order). */
export const jobStateOf = (records: readonly RoutingLogRecord[]): JobState =>
  records.reduce(evolveJob, initialJobState);
