/** The rules log in memory, for unit tests: passes the same contract suite as the DynamoDB adapter. */

import { RULES_STREAM, type RulesRecord } from '../log/rules-records.ts';
import type { RulesAppendResult, RulesLog } from '../ports/rules-log.ts';

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

  async append(record: RulesRecord): Promise<RulesAppendResult> {
    if (this.#records.has(record.version)) return 'conflict';
    this.#records.set(record.version, structuredClone({ ...record, stream: this.#stream }));
    return 'appended';
  }
}
