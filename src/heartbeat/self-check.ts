/**
 * The heartbeat's self-check: the Routing Manager is only "alive" if its configuration loads and
 * its event log table is reachable, usable and streaming (without the stream nothing is projected,
 * so routed jobs would silently never reach a provider queue).
 *
 * No AWS import here: the table is reached through the `TableProbe` port (src/ports/table-probe.ts).
 */
import type { HeartbeatConfig } from '../config/heartbeat-config.ts';
import type { TableDescription, TableProbe } from '../ports/table-probe.ts';

/** Closed set of reasons, stable strings a log query or dashboard can group by. */
export type SelfCheckFailureReason =
  | 'config_invalid'
  | 'log_table_missing'
  | 'log_table_unavailable'
  | 'log_table_stream_disabled'
  | 'log_table_unreachable';

export type SelfCheckResult =
  | { readonly healthy: true; readonly config: HeartbeatConfig }
  | { readonly healthy: false; readonly reason: SelfCheckFailureReason; readonly detail: string };

// A table being updated (GSI backfill, throughput change) still serves reads and writes.
const usableTableStatuses = new Set(['ACTIVE', 'UPDATING']);
// The projector needs the new image of every appended record.
const projectableStreamViews = new Set(['NEW_IMAGE', 'NEW_AND_OLD_IMAGES']);

export interface SelfCheckDependencies {
  readonly loadConfig: () => HeartbeatConfig;
  readonly logTableProbe: TableProbe;
}

export async function runSelfCheck(dependencies: SelfCheckDependencies): Promise<SelfCheckResult> {
  let config: HeartbeatConfig;
  try {
    config = dependencies.loadConfig();
  } catch (error) {
    return { healthy: false, reason: 'config_invalid', detail: describeError(error) };
  }

  let table: TableDescription;
  try {
    table = await dependencies.logTableProbe.describe(config.eventLogTable);
  } catch (error) {
    return {
      healthy: false,
      reason: 'log_table_unreachable',
      detail: `DescribeTable ${config.eventLogTable} failed: ${describeError(error)}`,
    };
  }

  if (table.kind === 'missing') {
    return {
      healthy: false,
      reason: 'log_table_missing',
      detail: `table ${config.eventLogTable} does not exist`,
    };
  }
  if (!usableTableStatuses.has(table.status)) {
    return {
      healthy: false,
      reason: 'log_table_unavailable',
      detail: `table ${config.eventLogTable} is ${table.status}`,
    };
  }
  if (!table.streamEnabled || !projectableStreamViews.has(table.streamViewType ?? '')) {
    return {
      healthy: false,
      reason: 'log_table_stream_disabled',
      detail: `table ${config.eventLogTable} has no NEW_IMAGE stream (view type: ${table.streamViewType ?? 'none'})`,
    };
  }
  return { healthy: true, config };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
