/**
 * The contract every RoutingLog implementation must pass (in-memory in unit tests, DynamoDB in
 * integration tests): conditional appends, no overwrite, the existing record on a clash, ordered reads.
 */
import { describe, expect, it } from 'vitest';
import { decisionRecord, type ProjectionReplayRequestedRecord } from '../../src/log/routing-records.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { testPayloadHash } from './content.ts';
import { aJob } from './jobs.ts';

export function aDecisionRecord(
  overrides: Record<string, unknown> = {},
  recordedAt = '2026-11-25T10:00:01.000Z',
) {
  const job = aJob(overrides);
  return decisionRecord(
    {
      eventId: `evt-${job.jobId}`,
      submittedAt: '2026-11-25T10:00:00Z',
      recordedAt,
      detail: job,
      payloadHash: testPayloadHash(job),
    },
    job,
    decide(job, { table: defaultRoutingTable }),
  );
}

export function routingLogContract(name: string, createLog: () => Promise<RoutingLog> | RoutingLog) {
  describe(`${name} honours the routing log contract`, () => {
    it('given an empty stream, when a decision is appended, then reading the stream returns it', async () => {
      const log = await createLog();
      const record = aDecisionRecord();
      expect(await log.append(record)).toEqual({ status: 'appended' });
      expect(await log.readStream(record.stream)).toEqual([record]);
    });

    it('given a decision, when another record with the same key is appended, then it is refused and the first returned', async () => {
      const log = await createLog();
      const first = aDecisionRecord({ provider: 'fal' });
      await log.append(first);
      const second = { ...aDecisionRecord({ jobId: first.jobId, provider: 'replicate' }) };
      expect(await log.append(second)).toEqual({ status: 'exists', existing: first });
      expect(await log.readStream(first.stream)).toEqual([first]);
    });

    it('given a decision, when later versions are appended, then the stream reads in version order', async () => {
      const log = await createLog();
      const decision = aDecisionRecord();
      const replay = (version: number): ProjectionReplayRequestedRecord => ({
        stream: decision.stream,
        version,
        schemaVersion: 1,
        jobId: decision.jobId as string,
        recordedAt: '2026-11-25T11:00:00.000Z',
        type: 'ProjectionReplayRequested',
        replayId: `replay-${version}`,
        requestedBy: 'ops@example.com',
        why: 'fal outage',
        replayOf: 1,
        decision,
      });
      await log.append(replay(3));
      await log.append(decision);
      await log.append(replay(2));
      expect((await log.readStream(decision.stream)).map((r) => r.version)).toEqual([1, 2, 3]);
    });

    it('given no stream, when it is read, then it is empty', async () => {
      const log = await createLog();
      expect(await log.readStream('job#never-seen')).toEqual([]);
    });
  });
}
