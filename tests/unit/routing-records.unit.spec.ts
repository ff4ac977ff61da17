import { describe, expect, it } from 'vitest';
import {
  AUDIT_SHARDS,
  auditShard,
  recordFromItem,
  UnsupportedRecordError,
} from '../../src/log/routing-records.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

describe('routing log records', () => {
  it('spread streams evenly over the audit shards', () => {
    const counts = new Array(AUDIT_SHARDS).fill(0);
    for (let i = 0; i < 8000; i++) counts[auditShard(`job#${i}`)]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('read back a stored item of the current schema unchanged', () => {
    const record = aDecisionRecord();
    expect(recordFromItem({ ...record })).toEqual(record);
  });

  it.each([
    ['an unknown type', { type: 'RoutingGuessed', schemaVersion: 1 }, /unknown record type RoutingGuessed/],
    ['a future schema version', { type: 'RoutingDecided', schemaVersion: 2 }, /unsupported schemaVersion 2/],
  ])('refuse %s with a typed error', (_case, item, message) => {
    expect(() => recordFromItem(item)).toThrow(UnsupportedRecordError);
    expect(() => recordFromItem(item)).toThrow(message);
  });
});
