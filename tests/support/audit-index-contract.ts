/**
 * The contract every AuditIndex must pass (in-memory twin in unit tests, the DynamoDB GSI in
 * integration tests): decisions of the asked providers in a half-open window, in recorded-time
 * order day by day; records that are not decisions never listed; progress over every partition.
 * Each test uses its own days, so one shared table serves them all.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionRecord, RoutingLogRecord } from '../../src/log/routing-records.ts';
import type { AuditIndex, AuditQueryProgress, AuditWindow } from '../../src/ports/audit-index.ts';
import { aReplayOf } from './records.ts';
import { aDecisionRecord } from './routing-log-contract.ts';

async function listed(index: AuditIndex, providers: readonly string[], window: AuditWindow) {
  const records: DecisionRecord[] = [];
  for await (const record of index.decisions(providers, window)) records.push(record);
  return records.map((record) => `${record.metadata.recordedAt} ${record.metadata.jobId}`);
}

export function auditIndexContract(
  name: string,
  withRecords: (records: readonly RoutingLogRecord[]) => Promise<AuditIndex> | AuditIndex,
) {
  describe(`${name} honours the audit index contract`, () => {
    it('given decisions of several providers over two days, when some providers are asked, then theirs come in recorded-time order', async () => {
      const fal1 = aDecisionRecord({ provider: 'fal', jobId: 'aic-fal-1' }, '2031-01-02T09:00:00.000Z');
      const fal2 = aDecisionRecord({ provider: 'fal', jobId: 'aic-fal-2' }, '2031-01-01T23:00:00.000Z');
      const rep = aDecisionRecord({ provider: 'replicate', jobId: 'aic-rep-1' }, '2031-01-02T08:00:00.000Z');
      const auto = aDecisionRecord({ provider: 'auto', jobId: 'aic-auto-1' }, '2031-01-01T10:00:00.000Z');
      const index = await withRecords([fal1, fal2, rep, auto]);
      const window = { since: '2031-01-01T00:00:00.000Z', until: '2031-01-03T00:00:00.000Z' };
      expect(await listed(index, ['fal', 'replicate'], window)).toEqual([
        '2031-01-01T10:00:00.000Z aic-auto-1',
        '2031-01-01T23:00:00.000Z aic-fal-2',
        '2031-01-02T08:00:00.000Z aic-rep-1',
        '2031-01-02T09:00:00.000Z aic-fal-1',
      ]);
      expect(await listed(index, ['replicate'], window)).toEqual(['2031-01-02T08:00:00.000Z aic-rep-1']);
    });

    it('given decisions at both ends of a window, when listed, then `since` is in and `until` is out', async () => {
      const atSince = aDecisionRecord({ provider: 'fal', jobId: 'aic-since' }, '2031-02-01T10:00:00.000Z');
      const atUntil = aDecisionRecord({ provider: 'fal', jobId: 'aic-until' }, '2031-02-01T11:00:00.000Z');
      const index = await withRecords([atSince, atUntil]);
      const window = { since: '2031-02-01T10:00:00.000Z', until: '2031-02-01T11:00:00.000Z' };
      expect(await listed(index, ['fal'], window)).toEqual(['2031-02-01T10:00:00.000Z aic-since']);
    });

    it('given a decision and its replay record, when listed, then only the decision appears', async () => {
      const decision = aDecisionRecord(
        { provider: 'fal', jobId: 'aic-replayed' },
        '2031-03-01T10:00:00.000Z',
      );
      const index = await withRecords([decision, aReplayOf(decision)]);
      const window = { since: '2031-03-01T00:00:00.000Z', until: '2031-03-02T00:00:00.000Z' };
      expect(await listed(index, ['fal'], window)).toEqual(['2031-03-01T10:00:00.000Z aic-replayed']);
    });

    it('given a two-day window of two providers, when listed, then progress reaches every one of the 32 partitions', async () => {
      const index = await withRecords([]);
      const progress: AuditQueryProgress[] = [];
      const window = { since: '2031-04-01T00:00:00.000Z', until: '2031-04-03T00:00:00.000Z' };
      for await (const _ of index.decisions(['fal', 'replicate'], window, (p) => progress.push(p))) {
        // nothing is filed in these days
      }
      expect(progress).toHaveLength(32);
      expect(progress.at(-1)).toEqual({ partitionsQueried: 32, partitionsTotal: 32 });
    });
  });
}
