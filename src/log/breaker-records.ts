/**
 * The records a breaker's stream (`health#<key>`) is appended with, through the health store's
 * `appendToStream` (src/ports/provider-health-store.ts) — the same `{ type, data, metadata }` shape
 * and the same append contract as the routing and rules logs:
 *
 *   HealthSignalCounted    a signal that changed the breaker, by its dedupe key: counted once
 *   ProviderHealthChanged  a transition (src/log/routing-records.ts): recorded in the routing log at
 *                          its transition version, announced by the projector
 *   BreakerStateRecorded   the breaker's state after the append: the snapshot every reader loads
 *
 * The stream's version, which `expectedVersion` names, is the breaker's revision: every append
 * moves it by one, whatever it carries (a probe lease or a judged window moves it without a
 * transition). Transitions keep their own numbering in the log, so `history health#<key>` lists
 * versions 1, 2, … of transitions only.
 *
 * An append of counted signals alone (no state record) may name no version: `ANY_VERSION` (Emmett's
 * "no concurrency check"). It counts signals whose decision left nothing that lasts on the breaker —
 * the revision does not move, so it races no writer of the breaker — and is still all or nothing:
 * a signal counted before refuses the whole append (VersionConflictError naming it).
 *
 * Plain data and pure builders; how an adapter stores them is its own (the DynamoDB adapter keeps
 * the item layout it always had: src/aws/dynamodb-provider-health-store.ts).
 */
import { TRANSACT_WRITE_MAX_ITEMS } from '../batching/aws-batch-limits.ts';
import type { BreakerState, HealthTransition } from './health-records.ts';
import {
  healthChangedRecord,
  InvalidAppendError,
  type ProviderHealthChangedRecord,
  streamForHealth,
} from './routing-records.ts';

export interface BreakerRecordMetadata {
  /** `health#<key>`: the breaker's stream. */
  readonly stream: string;
  /** The event time the record is about (a signal's own time; the snapshot's time of change). */
  readonly recordedAt: string;
}

/** A signal the breaker counted, by its dedupe key: a copy of it is refused (counted once). */
export interface HealthSignalCountedRecord {
  readonly type: 'HealthSignalCounted';
  readonly data: { readonly signalId: string };
  readonly metadata: BreakerRecordMetadata;
}

/** The breaker's state after the records appended with it: what `load` returns from then on. */
export interface BreakerStateRecordedRecord {
  readonly type: 'BreakerStateRecorded';
  readonly data: { readonly state: BreakerState };
  readonly metadata: BreakerRecordMetadata;
}

export type BreakerRecord =
  | HealthSignalCountedRecord
  | ProviderHealthChangedRecord
  | BreakerStateRecordedRecord;

/** What one decision on a breaker appends (pure): the signals it counted, its transitions, its new state. */
export interface BreakerChange {
  readonly state: BreakerState;
  /** The time of the change: the last counted signal's, the newest judged window's end, the lease's. */
  readonly at: string;
  /** The signals counted, each with its own event time (the store keeps its dedupe key a while after it). */
  readonly signals?: readonly { readonly signalId: string; readonly at: string }[];
  readonly transitions?: readonly HealthTransition[];
}

/** The records of one change, in the order they happened: signals, transitions, then the state they left. */
export function breakerRecordsOf(change: BreakerChange): BreakerRecord[] {
  const stream = streamForHealth(change.state.key);
  return [
    ...countedRecordsOf(change.state.key, change.signals ?? []),
    ...(change.transitions ?? []).map(healthChangedRecord),
    {
      type: 'BreakerStateRecorded',
      data: { state: change.state },
      metadata: { stream, recordedAt: change.at },
    },
  ];
}

/**
 * The expected version of an append that checks none (Emmett's NO_CONCURRENCY_CHECK): only an
 * append of HealthSignalCounted records alone may name it (`markersWriteOf`).
 */
export const ANY_VERSION = 'NO_CONCURRENCY_CHECK' as const;
export type AnyVersion = typeof ANY_VERSION;

/** What an append to a breaker's stream expects: its revision (0: never written), or ANY_VERSION. */
export interface BreakerAppendOptions {
  readonly expectedVersion: number | AnyVersion;
}

/** The records of counted signals alone, appended with ANY_VERSION: dedupe markers, no state. */
export function countedRecordsOf(
  key: string,
  signals: readonly { readonly signalId: string; readonly at: string }[],
): HealthSignalCountedRecord[] {
  const stream = streamForHealth(key);
  return signals.map(({ signalId, at }) => ({
    type: 'HealthSignalCounted',
    data: { signalId },
    metadata: { stream, recordedAt: at },
  }));
}

/** An append as an adapter writes it: checked (`breakerWriteOf`), split by where each part is kept. */
export interface BreakerWrite {
  readonly key: string;
  readonly stream: string;
  /** The revision the breaker must still have (0: never written). */
  readonly expectedRev: number;
  readonly state: BreakerState;
  readonly at: string;
  readonly signals: readonly { readonly signalId: string; readonly at: string }[];
  readonly transitions: readonly ProviderHealthChangedRecord[];
}

/**
 * Checks an append to a breaker's stream and splits it for the adapter (pure): a whole expected
 * version, every record on `stream`, exactly one BreakerStateRecorded of that breaker, no signal
 * twice (one transaction cannot write an item twice) and at most `maxRecords` records (each is one
 * item of the adapter's one atomic write). A caller bug otherwise, never a race: InvalidAppendError
 * before anything is written.
 */
export function breakerWriteOf(
  stream: string,
  records: readonly BreakerRecord[],
  expectedVersion: number,
  maxRecords: number,
): BreakerWrite {
  const invalid = (why: string) => new InvalidAppendError(`an append to ${stream} ${why}`);
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0)
    throw invalid('has no whole expected version');
  if (records.length > maxRecords)
    throw invalid(`carries ${records.length} records, more than ${maxRecords}`);
  const strays = records.filter((record) => record.metadata.stream !== stream);
  if (strays.length > 0) throw invalid(`carries ${strays.length} record(s) of another stream`);
  const states = records.flatMap((r) => (r.type === 'BreakerStateRecorded' ? [r] : []));
  const [snapshot] = states;
  if (states.length !== 1 || !snapshot) throw invalid(`carries ${states.length} breaker states, not 1`);
  const { state } = snapshot.data;
  if (streamForHealth(state.key) !== stream) throw invalid(`carries the state of breaker ${state.key}`);
  const signals = records.flatMap((r) =>
    r.type === 'HealthSignalCounted' ? [{ signalId: r.data.signalId, at: r.metadata.recordedAt }] : [],
  );
  if (new Set(signals.map((s) => s.signalId)).size !== signals.length) throw invalid('counts a signal twice');
  return {
    key: state.key,
    stream,
    expectedRev: expectedVersion,
    state,
    at: snapshot.metadata.recordedAt,
    signals,
    transitions: records.flatMap((r) => (r.type === 'ProviderHealthChanged' ? [r] : [])),
  };
}

/** An append of counted signals alone (ANY_VERSION) as an adapter writes it: their markers, all or none. */
export interface MarkersWrite {
  readonly stream: string;
  readonly signals: readonly { readonly signalId: string; readonly at: string }[];
}

/**
 * Checks an append with ANY_VERSION (pure): at least one record, every one a HealthSignalCounted on
 * `stream`, no signal twice and at most `maxRecords` — with no expected version there is no state to
 * write, so nothing else may ride along. InvalidAppendError otherwise, before anything is written.
 */
export function markersWriteOf(
  stream: string,
  records: readonly BreakerRecord[],
  maxRecords: number,
): MarkersWrite {
  const invalid = (why: string) =>
    new InvalidAppendError(`an append to ${stream} with no expected version ${why}`);
  if (records.length === 0) throw invalid('carries no record');
  if (records.length > maxRecords)
    throw invalid(`carries ${records.length} records, more than ${maxRecords}`);
  if (records.some((record) => record.metadata.stream !== stream))
    throw invalid('carries a record of another stream');
  const others = records.filter((r) => r.type !== 'HealthSignalCounted').length;
  if (others > 0) throw invalid(`carries ${others} record(s) other than counted signals`);
  const signals = records.flatMap((r) =>
    r.type === 'HealthSignalCounted' ? [{ signalId: r.data.signalId, at: r.metadata.recordedAt }] : [],
  );
  if (new Set(signals.map((s) => s.signalId)).size !== signals.length) throw invalid('counts a signal twice');
  return { stream, signals };
}

/**
 * The breaker stream's append, written once for every adapter of the health store (as
 * AppendOnlyLog is for the logs): `appendToStream` checks the append (`breakerWriteOf`, at most one
 * transaction's worth of records) and answers the new revision; an adapter only says how a checked
 * change is written in one step if the breaker is still at its revision, its signals uncounted and
 * its transition versions free (`writeIfExpected`, throwing VersionConflictError otherwise). With
 * ANY_VERSION (`markersWriteOf`) it writes counted signals' markers alone, all or none
 * (`markIfUncounted`), and answers null: the breaker's revision did not move and was not read.
 */
export abstract class BreakerStreamAppends {
  async appendToStream(
    stream: string,
    records: readonly BreakerRecord[],
    { expectedVersion }: BreakerAppendOptions,
  ): Promise<number | null> {
    if (expectedVersion === ANY_VERSION) {
      await this.markIfUncounted(markersWriteOf(stream, records, TRANSACT_WRITE_MAX_ITEMS));
      return null;
    }
    const write = breakerWriteOf(stream, records, expectedVersion, TRANSACT_WRITE_MAX_ITEMS);
    await this.writeIfExpected(write);
    return write.expectedRev + 1;
  }

  /** Writes the whole change at once, or nothing and throws VersionConflictError saying what it found. */
  protected abstract writeIfExpected(write: BreakerWrite): Promise<void>;

  /**
   * Writes every marker at once if none exists, or nothing and throws VersionConflictError whose
   * BreakerConflict names exactly the signals counted before (no breaker: none was expected).
   */
  protected abstract markIfUncounted(write: MarkersWrite): Promise<void>;
}
