/**
 * The one fold of a job's stream (Emmett's `evolve`): `evolveJob(state, record)` folds one record
 * of `job#<jobId>` (or `event#<eventId>`) into what every decider and reader of the job asks — the
 * decision recorded at version 1, the routing in force and the dispatches it caused, revisions,
 * replays, re-drives, erasure, and whether the job's routing is closed. `jobStateOf(records)` folds
 * a stream as read. Pure: built once per read and handed to the deciders (route, revise, replay,
 * re-drive, forget) and the readers (history, content status), so none of them re-scans records.
 */
import type {
  ContentErasedRecord,
  DecisionRecord,
  ProjectionRedriveRequestedRecord,
  ProjectionReplayRequestedRecord,
  RedriveTarget,
  RoutingDecidedRecord,
  RoutingLogRecord,
  RoutingRevisedRecord,
} from './routing-records.ts';

/** A record that sent the job to a provider: its version is the dispatch's (`<jobId>:v<version>`). */
export interface JobDispatch {
  readonly version: number;
  readonly decision: RoutingDecidedRecord;
}

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
  /** The decision recorded at version 1 (null: no decision, e.g. a stream of health records). */
  readonly decision: DecisionRecord | null;
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
}

export const initialJobState: JobState = {
  stream: null,
  version: 0,
  decision: null,
  current: null,
  dispatches: [],
  revisions: [],
  replays: [],
  redrives: [],
  owed: [],
  erasure: null,
  closed: false,
};

/** The decision a routing record carries (its own for a decision). */
function routingOf(record: CurrentRouting['record']): DecisionRecord {
  return record.type === 'ProjectionReplayRequested' || record.type === 'RoutingRevised'
    ? record.decision
    : record;
}

function withRouting(state: JobState, record: CurrentRouting['record'], owes: boolean): JobState {
  const decision = routingOf(record);
  const dispatches =
    decision.type === 'RoutingDecided'
      ? [...state.dispatches, { version: record.version, decision }]
      : state.dispatches;
  return {
    ...state,
    current: { version: record.version, decision, record },
    dispatches,
    owed: owes ? [...state.owed, record] : state.owed,
    closed: record.type === 'RoutingRevised' && decision.type === 'RoutingRejected',
  };
}

export function evolveJob(state: JobState, record: RoutingLogRecord): JobState {
  const next: JobState = {
    ...state,
    stream: record.stream,
    version: Math.max(state.version, record.version),
  };
  switch (record.type) {
    case 'RoutingDecided':
    case 'RoutingRejected':
      return withRouting(
        record.version === 1 ? { ...next, decision: record } : next,
        record,
        record.jobId !== null,
      );
    case 'ProjectionReplayRequested':
      // A replay recorded with its content withheld sends nothing, so the projector owes it nothing;
      // it still supersedes the routing before it (fencing: an older dispatch is no longer current).
      return withRouting({ ...next, replays: [...next.replays, record] }, record, !record.contentWithheld);
    case 'RoutingRevised':
      return withRouting({ ...next, revisions: [...next.revisions, record] }, record, true);
    case 'ProjectionRedriveRequested':
      return { ...next, redrives: [...next.redrives, record] };
    case 'ContentErased':
      return { ...next, erasure: next.erasure ?? record };
    case 'ProviderHealthChanged':
      return next;
  }
}

/** The state of a stream as read (records in version order). */
export const jobStateOf = (records: readonly RoutingLogRecord[]): JobState =>
  records.reduce(evolveJob, initialJobState);
