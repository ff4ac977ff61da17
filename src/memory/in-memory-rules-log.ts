/** The rules log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter. */

import { VersionConflictError } from '../errors.ts';
import { appendInOrder } from '../log/routing-records.ts';
import { RULES_STREAM, type RulesRecord } from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';

export class InMemoryRulesLog implements RulesLog {
  readonly #records = new Map<number, RulesRecord>();
  readonly #stream: string;
  /** Calls to latest(), for tests of the router's cache. */
  reads = 0;

  constructor(stream = RULES_STREAM) {
    this.#stream = stream;
  }

  async latest(): Promise<RulesRecord | null> {
    this.reads++;
    const all = await this.readAll();
    return all.at(-1) ?? null;
  }

  async readAll(): Promise<RulesRecord[]> {
    return [...this.#records.values()].sort((a, b) => a.version - b.version).map((r) => structuredClone(r));
  }

  async appendToStream(
    records: readonly RulesRecord[],
    { expectedVersion }: { readonly expectedVersion: number },
  ): Promise<number> {
    return appendInOrder(
      RULES_STREAM,
      records,
      expectedVersion,
      (record) => record,
      async (record) => {
        if (this.#records.has(record.version)) throw new VersionConflictError(this.#stream, record.version);
        this.#records.set(record.version, structuredClone({ ...record, stream: this.#stream }));
      },
    );
  }
}
