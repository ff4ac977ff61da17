/**
 * The routing log port: an append-only store of records keyed by (stream, version), with the one
 * append contract of every log here (Emmett's `appendToStream`): records go at the versions after
 * the one the caller read, each only if its version is free — a (stream, version) that exists is
 * never overwritten, and the adapter throws VersionConflictError (with the record it found there)
 * for the command handler to read again. Adapter: src/aws/dynamodb-routing-log.ts; in-memory twin:
 * src/memory/in-memory-routing-log.ts. Both pass tests/support/routing-log-contract.ts.
 */
import type { RoutingLogRecord } from '../log/routing-records.ts';

export interface AppendOptions {
  /** The version of the stream's last record as the caller read it (0: a stream not yet written). */
  readonly expectedVersion: number;
}

export interface RoutingLog {
  /**
   * Appends `records`, numbered expectedVersion + 1, + 2, … on `stream`, in order; returns the
   * stream's new version. A taken version throws VersionConflictError (`existing`: the record
   * there); the records before it stay appended, as a re-read then shows.
   */
  appendToStream(
    stream: string,
    records: readonly RoutingLogRecord[],
    options: AppendOptions,
  ): Promise<number>;
  /** Every record of a stream, in version order; empty when the stream does not exist. */
  readStream(stream: string): Promise<RoutingLogRecord[]>;
}
