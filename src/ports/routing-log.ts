/**
 * The routing log port: an append-only store of records keyed by (stream, version). Appends are
 * conditional — a (stream, version) that exists is never overwritten; the caller gets the record
 * that is there instead. Adapter: src/aws/dynamodb-routing-log.ts; in-memory twin:
 * src/memory/in-memory-routing-log.ts. Both pass tests/support/routing-log-contract.ts.
 */
import type { RoutingLogRecord } from '../log/routing-records.ts';

export type AppendResult =
  | { readonly status: 'appended' }
  | { readonly status: 'exists'; readonly existing: RoutingLogRecord };

export interface RoutingLog {
  append(record: RoutingLogRecord): Promise<AppendResult>;
  /** Every record of a stream, in version order; empty when the stream does not exist. */
  readStream(stream: string): Promise<RoutingLogRecord[]>;
}
