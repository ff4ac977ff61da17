/**
 * The rules log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter.
 * Records are kept as stored items and read back through the same schema check as DynamoDB's.
 */

import { VersionConflictError } from '../errors.ts';
import { AppendOnlyLog } from '../log/routing-records.ts';
import { type RulesRecord, rulesItemOf, rulesRecordFromItem } from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';

export class InMemoryRulesLog extends AppendOnlyLog<RulesRecord> implements RulesLog {
  readonly #streams = new Map<string, Map<number, Record<string, unknown>>>();
  /** Calls to latest(), for tests of the router's cache. */
  reads = 0;

  async latest(stream: string): Promise<RulesRecord | null> {
    this.reads++;
    return (await this.readStream(stream)).at(-1) ?? null;
  }

  async readStream(stream: string): Promise<RulesRecord[]> {
    return [...(this.#streams.get(stream) ?? [])]
      .sort(([a], [b]) => a - b)
      .map(([, item]) => rulesRecordFromItem(structuredClone(item)));
  }

  protected async putIfFree(record: RulesRecord): Promise<void> {
    const { stream, version } = record.metadata;
    const items = this.#streams.get(stream) ?? new Map<number, Record<string, unknown>>();
    if (items.has(version)) throw new VersionConflictError(stream, version);
    items.set(version, structuredClone(rulesItemOf(record)));
    this.#streams.set(stream, items);
  }
}
