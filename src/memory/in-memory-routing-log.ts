/**
 * The routing log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter.
 * Records are kept as stored items and read back through the same upcasting as DynamoDB's.
 */

import { VersionConflictError } from '../errors.ts';
import { AppendOnlyLog, type RoutingLogRecord } from '../log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../log/stored-records.ts';
import type { RoutingLog } from '../ports/routing-log.ts';

export class InMemoryRoutingLog extends AppendOnlyLog<RoutingLogRecord> implements RoutingLog {
  readonly #streams = new Map<string, Map<number, Record<string, unknown>>>();

  protected async putIfFree(record: RoutingLogRecord): Promise<void> {
    const { stream: streamId, version } = record.metadata;
    const stream = this.#streams.get(streamId) ?? new Map<number, Record<string, unknown>>();
    const existing = stream.get(version);
    if (existing) throw new VersionConflictError(streamId, version, { existing: readBack(existing) });
    stream.set(version, structuredClone(storedItemOf(record)));
    this.#streams.set(streamId, stream);
  }

  async readStream(streamId: string): Promise<RoutingLogRecord[]> {
    const stream = this.#streams.get(streamId);
    if (!stream) return [];
    return [...stream.entries()].sort(([a], [b]) => a - b).map(([, item]) => readBack(item));
  }
}

const readBack = (item: Record<string, unknown>): RoutingLogRecord => recordFromItem(structuredClone(item));
