/**
 * The audit index port: the decisions filed under some providers within a time window, in recorded
 * time order, read a day at a time so a caller that stops early reads no further. Eventually
 * consistent: a decision appended a moment ago may not be listed yet; only decisions are indexed.
 * Adapter: src/aws/dynamodb-audit-index.ts (the `byProviderTimeKeys` GSI); in-memory twin:
 * src/memory/in-memory-audit-index.ts. Both pass tests/support/audit-index-contract.ts.
 */
import type { DecisionRecord } from '../log/routing-records.ts';

export interface AuditQueryProgress {
  readonly partitionsQueried: number;
  readonly partitionsTotal: number;
}

export interface AuditIndex {
  decisions(
    providers: readonly string[],
    window: AuditWindow,
    onProgress?: (progress: AuditQueryProgress) => void,
  ): AsyncIterable<DecisionRecord>;
}

export interface AuditWindow {
  /** Inclusive start, ISO 8601 UTC with milliseconds (the format of `recordedAt`). */
  readonly since: string;
  /** Exclusive end, same format. */
  readonly until: string;
}
