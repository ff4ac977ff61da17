/**
 * Seeding logs in tests through the one append contract: each record at its own version, expected
 * on the stream's previous one (a taken version throws VersionConflictError, as in production).
 */
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import type { RulesRecord } from '../../src/log/rules-records.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import type { RulesLog } from '../../src/ports/rules-log.ts';

export const appendRecord = (log: Pick<RoutingLog, 'appendToStream'>, record: RoutingLogRecord) =>
  log.appendToStream(record.metadata.stream, [record], { expectedVersion: record.metadata.version - 1 });

export const appendRulesRecord = (log: Pick<RulesLog, 'appendToStream'>, record: RulesRecord) =>
  log.appendToStream(record.metadata.stream, [record], { expectedVersion: record.metadata.version - 1 });
