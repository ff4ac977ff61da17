/**
 * The audit index in memory, for unit tests: the decisions of the records it was given, filed and
 * selected by the same index keys as the `byProviderTimeKeys` GSI (`auditKeysOf`, derived from the
 * record as the DynamoDB adapter's stored item derives them), day by day. Passes the same contract
 * suite as the DynamoDB adapter.
 */

import {
  auditKeysOf,
  type DecisionRecord,
  isDecision,
  type RoutingLogRecord,
} from '../log/routing-records.ts';
import type { AuditIndex, AuditQueryProgress, AuditWindow } from '../ports/audit-index.ts';
import { decisionsDayByDay } from '../queries/audit-window.ts';

export class InMemoryAuditIndex implements AuditIndex {
  readonly #decisions: DecisionRecord[] = [];

  /** Files a record as the GSI would: only decisions carry index keys. */
  index(record: RoutingLogRecord): void {
    if (isDecision(record)) this.#decisions.push(structuredClone(record));
  }

  async *decisions(
    providers: readonly string[],
    window: AuditWindow,
    onProgress?: (progress: AuditQueryProgress) => void,
  ): AsyncGenerator<DecisionRecord> {
    const inPartition = async (partition: string) =>
      this.#decisions
        .filter((record) => {
          const keys = auditKeysOf(record);
          return keys.partition === partition && keys.sort >= window.since && keys.sort <= window.until;
        })
        .map((record) => structuredClone(record));
    yield* decisionsDayByDay(providers, window, inPartition, {
      concurrency: 1,
      ...(onProgress ? { onProgress } : {}),
    });
  }
}
