/**
 * The rules log port: the `rules#routing` stream of the routing log. Appends are conditional on the
 * version being free (the expected version of an event store): a concurrent change makes the append
 * report `conflict`, and the command handler re-reads and decides again. Adapter:
 * src/aws/dynamodb-rules-log.ts; in-memory twin: src/memory/in-memory-rules-log.ts. Both pass
 * tests/support/rules-log-contract.ts.
 */
import type { RulesRecord } from '../log/rules-records.ts';

export type RulesAppendResult = 'appended' | 'conflict';

export interface RulesLog {
  /** The latest record (the current state), or null when no rules were ever published. */
  latest(): Promise<RulesRecord | null>;
  /** Every record in version order. */
  readAll(): Promise<RulesRecord[]>;
  append(record: RulesRecord): Promise<RulesAppendResult>;
}
