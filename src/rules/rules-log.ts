/**
 * The rules log port: the `rules#routing` stream of the routing log. Appends are conditional on the
 * version being free (the expected version of an event store): a concurrent change makes the append
 * report `conflict`, and the command handler re-reads and decides again. The DynamoDB adapter is
 * src/aws/dynamodb-rules-log.ts; the in-memory twin below passes the same contract suite.
 */
import { RULES_STREAM, type RulesRecord } from './rules-records.ts';

export type RulesAppendResult = 'appended' | 'conflict';

export interface RulesLog {
  /** The latest record (the current state), or null when no rules were ever published. */
  latest(): Promise<RulesRecord | null>;
  /** Every record in version order. */
  readAll(): Promise<RulesRecord[]>;
  append(record: RulesRecord): Promise<RulesAppendResult>;
}

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
