/**
 * The routing log port: an append-only store of records keyed by (stream, version). Appends are
 * conditional — a (stream, version) that exists is never overwritten; the caller gets the record
 * that is there instead. The DynamoDB implementation lives in src/aws/dynamodb-routing-log.ts;
 * the in-memory one below serves unit tests and passes the same contract suite.
 */
import type { RoutingLogRecord } from './routing-records.ts';

export type AppendResult =
  | { readonly status: 'appended' }
  | { readonly status: 'exists'; readonly existing: RoutingLogRecord };

export interface RoutingLog {
  append(record: RoutingLogRecord): Promise<AppendResult>;
  /** Every record of a stream, in version order; empty when the stream does not exist. */
  readStream(stream: string): Promise<RoutingLogRecord[]>;
}

export class InMemoryRoutingLog implements RoutingLog {
  readonly #streams = new Map<string, Map<number, RoutingLogRecord>>();

  async append(record: RoutingLogRecord): Promise<AppendResult> {
    const stream = this.#streams.get(record.stream) ?? new Map<number, RoutingLogRecord>();
    this.#streams.set(record.stream, stream);
    const existing = stream.get(record.version);
    if (existing) return { status: 'exists', existing: structuredClone(existing) };
    stream.set(record.version, structuredClone(record));
    return { status: 'appended' };
  }

  async readStream(streamId: string): Promise<RoutingLogRecord[]> {
    const stream = this.#streams.get(streamId);
    if (!stream) return [];
    return [...stream.values()].sort((a, b) => a.version - b.version).map((r) => structuredClone(r));
  }
}
