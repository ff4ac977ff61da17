/**
 * Which decisions of an audit window an operator asked for. Applied to what the index returns
 * (the index partitions by provider and day only); pure.
 */
import { auditKeysOf, type DecisionRecord } from '../log/routing-records.ts';

export const OUTCOME_FILTERS = ['routed', 'rejected'] as const;
export type OutcomeFilter = (typeof OUTCOME_FILTERS)[number];

export interface DecisionFilter {
  readonly outcome?: OutcomeFilter;
  /** Rejection reasons (`no_route`, …); only rejections carry one. Empty or absent: any. */
  readonly reasons?: readonly string[];
  /** Models routed to; only routed decisions carry one. Empty or absent: any. */
  readonly models?: readonly string[];
}

export function matchesFilter(record: DecisionRecord, filter: DecisionFilter): boolean {
  if (filter.outcome && record.outcome !== filter.outcome) return false;
  if (
    filter.reasons?.length &&
    !(record.type === 'RoutingRejected' && filter.reasons.includes(record.reason))
  )
    return false;
  if (filter.models?.length && !(record.type === 'RoutingDecided' && filter.models.includes(record.model)))
    return false;
  return true;
}

/** Index order: recorded time, then stream (the index's sort key), so merged partitions read as one timeline. */
export function byIndexOrder(a: DecisionRecord, b: DecisionRecord): number {
  const [left, right] = [auditKeysOf(a).sort, auditKeysOf(b).sort];
  return left < right ? -1 : left > right ? 1 : 0;
}
