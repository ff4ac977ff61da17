/**
 * Which decisions of an audit window an operator asked for. Applied to what the index returns
 * (the index partitions by provider and day only); pure.
 */
import type { DecisionRecord } from '../log/routing-records.ts';

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

/** Index order: recorded time, then stream (the gsi1sk), so merged partitions read as one timeline. */
export const byIndexOrder = (a: DecisionRecord, b: DecisionRecord): number =>
  a.gsi1sk < b.gsi1sk ? -1 : a.gsi1sk > b.gsi1sk ? 1 : 0;
