/**
 * The rules log port: the `rules#routing` stream of the routing log, with the append contract of
 * every log here (src/ports/routing-log.ts): records after the expected version, each only if its
 * version is free; a concurrent change makes the adapter throw VersionConflictError, and the command
 * handler re-reads and decides again. Adapter:
 * src/aws/dynamodb-rules-log.ts; in-memory twin: src/memory/in-memory-rules-log.ts. Both pass
 * tests/support/rules-log-contract.ts.
 */
import type { RulesRecord } from '../log/rules-records.ts';
import type { AppendOptions } from './routing-log.ts';

export interface RulesLog {
  /** The newest record of `stream` (it carries the state in force), or null when none was appended. */
  latest(stream: string): Promise<RulesRecord | null>;
  /** Every record of `stream`, in version order; empty when the stream does not exist. */
  readStream(stream: string): Promise<RulesRecord[]>;
  /** Appends `records` at expectedVersion + 1, …; returns the new version; throws VersionConflictError. */
  appendToStream(stream: string, records: readonly RulesRecord[], options: AppendOptions): Promise<number>;
}
