/**
 * The routing log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter.
 * Records are kept as stored items and read back through the same upcasting as DynamoDB's.
 */

import { VersionConflictError } from '../errors.ts';
import type { RoutingLogRecord } from '../log/routing-records.ts';
import { appendInOrder, positionOf } from '../log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../log/stored-records.ts';
import type { AppendOptions, RoutingLog } from '../ports/routing-log.ts';

export class InMemoryRoutingLog implements RoutingLog {
  readonly #streams = new Map<string, Map<number, Record<string, unknown>>>();

  async appendToStream(
    streamId: string,
    records: readonly RoutingLogRecord[],
    { expectedVersion }: AppendOptions,
  ): Promise<number> {
    const stream = this.#streams.get(streamId) ?? new Map<number, Record<string, unknown>>();
    return appendInOrder(streamId, records, expectedVersion, positionOf, async (record) => {
      const existing = stream.get(record.metadata.version);
      if (existing)
        throw new VersionConflictError(streamId, record.metadata.version, { existing: readBack(existing) });
      stream.set(record.metadata.version, structuredClone(storedItemOf(record)));
      this.#streams.set(streamId, stream);
    });
  }

  async readStream(streamId: string): Promise<RoutingLogRecord[]> {
    const stream = this.#streams.get(streamId);
    if (!stream) return [];
    return [...stream.entries()].sort(([a], [b]) => a - b).map(([, item]) => readBack(item));
  }
}

const readBack = (item: Record<string, unknown>): RoutingLogRecord => recordFromItem(structuredClone(item));
