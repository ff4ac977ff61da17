/**
 * The audit index in memory, for unit tests: the decisions of the records it was given, filed and
 * selected by the same index keys (gsi1pk, gsi1sk) as the `byProviderTime` GSI, day by day. Passes
 * the same contract suite as the DynamoDB adapter.
 */
import { type AuditWindow, daysOf, partitionsOfDay } from '../audit/audit-window.ts';
import { byIndexOrder } from '../audit/decision-filter.ts';
import {
  AUDIT_SHARDS,
  type DecisionRecord,
  isDecision,
  type RoutingLogRecord,
} from '../log/routing-records.ts';
import type { AuditIndex, AuditQueryProgress } from '../ports/audit-index.ts';

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
    const days = daysOf(window);
    const partitionsTotal = days.length * providers.length * AUDIT_SHARDS;
    let partitionsQueried = 0;
    for (const day of days) {
      const found: DecisionRecord[] = [];
      for (const { gsi1pk } of partitionsOfDay(providers, day)) {
        found.push(
          ...this.#decisions.filter(
            (r) => r.gsi1pk === gsi1pk && r.gsi1sk >= window.since && r.gsi1sk <= window.until,
          ),
        );
        partitionsQueried++;
        onProgress?.({ partitionsQueried, partitionsTotal });
      }
      found.sort(byIndexOrder);
      yield* found.map((r) => structuredClone(r));
    }
  }
}
