/**
 * The rules log port: the `rules#routing` stream of the routing log, with the append contract of
 * every log here (src/ports/routing-log.ts): records after the expected version, each only if its
 * version is free; a concurrent change makes the adapter throw VersionConflictError, and the command
 * handler re-reads and decides again. Adapter:
 * src/aws/dynamodb-rules-log.ts; in-memory twin: src/memory/in-memory-rules-log.ts. Both pass
 * tests/support/rules-log-contract.ts.
 */
import type { RulesRecord } from '../log/rules-records.ts';

export interface RulesLog {
  /** The latest record (the current state), or null when no rules were ever published. */
  latest(): Promise<RulesRecord | null>;
  /** Every record in version order. */
  readAll(): Promise<RulesRecord[]>;
  /** Appends `records` at expectedVersion + 1, …; returns the new version; throws VersionConflictError. */
  appendToStream(
    records: readonly RulesRecord[],
    options: { readonly expectedVersion: number },
  ): Promise<number>;
}
