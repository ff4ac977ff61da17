import { describe, expect, it } from 'vitest';
import { parseIncidentKey } from '../../src/commands/replay-plan.ts';
import { abandonedBatchReport } from '../../src/local/run-local.ts';

const batch = {
  shardId: 'shardId-000001',
  startSequenceNumber: '4900000000000000000123456',
  endSequenceNumber: '4900000000000000000123460',
  batchSize: 5,
  attempts: 11,
  approximateArrivalOfFirstRecord: '2026-11-25T10:00:07.000Z',
  approximateArrivalOfLastRecord: '2026-11-25T10:00:09.000Z',
};

describe('a stream batch the live stack gives up on', () => {
  it('given an abandoned batch, then the report says what, the error class and the exact redrive that recovers it', () => {
    const line = abandonedBatchReport(
      batch,
      { failureClassOf: () => 'ProvisionedThroughputExceededException' },
      'local',
    );
    expect(line).toContain(
      'GAVE UP on a stream batch after 11 attempts: 5 log record(s), shard shardId-000001',
    );
    expect(line).toContain('error class ProvisionedThroughputExceededException');
    expect(line).toContain(
      'routing-manager redrive --stage local --incident STREAM-000000123456 --since 2026-11-25T09:59:07Z --until 2026-11-25T10:01:09Z --why "abandoned stream batch"',
    );
    // The command's incident key is one redrive accepts.
    expect(parseIncidentKey('STREAM-000000123456')).toBe('STREAM-000000123456');
  });

  it('given no arrival times and no known failure, then the command still runs: the last hour, error class unknown', () => {
    const line = abandonedBatchReport(
      { ...batch, approximateArrivalOfFirstRecord: null, approximateArrivalOfLastRecord: null },
      { failureClassOf: () => undefined },
      'local',
    );
    expect(line).toContain('error class unknown');
    expect(line).toContain('--since 1h --why "abandoned stream batch"');
  });
});
