/** The routing log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter. */
import type { RoutingLogRecord } from '../log/routing-records.ts';
import type { AppendResult, RoutingLog } from '../ports/routing-log.ts';

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
