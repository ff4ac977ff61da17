/**
 * The routing log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter.
 * Records are kept as stored items and read back through the same upcasting as DynamoDB's.
 */
import type { RoutingLogRecord } from '../log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../log/stored-records.ts';
import type { AppendResult, RoutingLog } from '../ports/routing-log.ts';

export class InMemoryRoutingLog implements RoutingLog {
  readonly #streams = new Map<string, Map<number, Record<string, unknown>>>();

  async append(record: RoutingLogRecord): Promise<AppendResult> {
    const stream = this.#streams.get(record.stream) ?? new Map<number, Record<string, unknown>>();
    this.#streams.set(record.stream, stream);
    const existing = stream.get(record.version);
    if (existing) return { status: 'exists', existing: readBack(existing) };
    stream.set(record.version, structuredClone(storedItemOf(record)));
    return { status: 'appended' };
  }

  async readStream(streamId: string): Promise<RoutingLogRecord[]> {
    const stream = this.#streams.get(streamId);
    if (!stream) return [];
    return [...stream.entries()].sort(([a], [b]) => a - b).map(([, item]) => readBack(item));
  }
}

const readBack = (item: Record<string, unknown>): RoutingLogRecord => recordFromItem(structuredClone(item));
