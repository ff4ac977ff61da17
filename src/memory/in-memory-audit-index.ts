/**
 * The audit index in memory, for unit tests: the decisions of the records it was given, filed and
 * selected by the same index keys (gsi1pk, gsi1sk) as the `byProviderTimeKeys` GSI, day by day. Passes
 * the same contract suite as the DynamoDB adapter.
 */

import { type DecisionRecord, isDecision, type RoutingLogRecord } from '../log/routing-records.ts';
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
    const inPartition = async (gsi1pk: string) =>
      this.#decisions
        .filter((r) => r.gsi1pk === gsi1pk && r.gsi1sk >= window.since && r.gsi1sk <= window.until)
        .map((r) => structuredClone(r));
    yield* decisionsDayByDay(providers, window, inPartition, {
      concurrency: 1,
      ...(onProgress ? { onProgress } : {}),
    });
  }
}
