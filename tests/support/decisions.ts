/** The decision a route returned, for tests whose providers have no concurrency (never held). */
import type { RoutingRecord } from '../../src/commands/route-job.ts';
import type { DecisionRecord } from '../../src/log/routing-records.ts';

export function decisionOf(record: RoutingRecord): DecisionRecord {
  if (record.type === 'RoutingDeferred') throw new Error(`${record.metadata.stream} was held, not decided`);
  return record;
}
