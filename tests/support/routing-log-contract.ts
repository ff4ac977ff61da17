/**
 * The contract every RoutingLog implementation must pass (in-memory in unit tests, DynamoDB in
 * integration tests): appendToStream after an expected version, no overwrite, a VersionConflictError
 * carrying the existing record on a clash, ordered reads.
 */
import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/errors.ts';
import {
  decisionRecord,
  InvalidAppendError,
  type ProjectionReplayRequestedRecord,
  RECORD_SCHEMA_VERSION,
  type RoutingLogRecord,
} from '../../src/log/routing-records.ts';
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
      expect(await log.appendToStream(record.metadata.stream, [record], { expectedVersion: 0 })).toBe(1);
      expect(await log.readStream(record.metadata.stream)).toEqual([record]);
    });

    it('given a decision, when another record with the same key is appended, then a VersionConflictError carries the first, which stands', async () => {
      const log = await createLog();
      const first = aDecisionRecord({ provider: 'fal' });
      await log.appendToStream(first.metadata.stream, [first], { expectedVersion: 0 });
      const second = { ...aDecisionRecord({ jobId: first.metadata.jobId, provider: 'replicate' }) };
      const conflict = await log
        .appendToStream(second.metadata.stream, [second], { expectedVersion: 0 })
        .catch((e) => e);
      expect(conflict).toBeInstanceOf(VersionConflictError);
      expect(conflict).toMatchObject({ stream: first.metadata.stream, version: 1, existing: first });
      expect(await log.readStream(first.metadata.stream)).toEqual([first]);
    });

    it('given two records after the expected version, when the second version is taken, then the first stays appended and the conflict names the second', async () => {
      const log = await createLog();
      const decision = aDecisionRecord();
      await log.appendToStream(decision.metadata.stream, [decision], { expectedVersion: 0 });
      const erased = (version: number): RoutingLogRecord => ({
        type: 'ContentErased',
        data: { erasureId: `erasure-${version}`, requestedBy: 'dpo', why: 'request' },
        metadata: {
          stream: decision.metadata.stream,
          version,
          recordedAt: '2026-11-25T11:00:00.000Z',
          schemaVersion: RECORD_SCHEMA_VERSION,
          jobId: decision.metadata.jobId,
        },
      });
      await log.appendToStream(decision.metadata.stream, [erased(3)], { expectedVersion: 2 });
      const conflict = await log
        .appendToStream(decision.metadata.stream, [erased(2), erased(3)], { expectedVersion: 1 })
        .catch((e) => e);
      expect(conflict).toMatchObject({ name: 'VersionConflictError', version: 3, existing: erased(3) });
      expect((await log.readStream(decision.metadata.stream)).map((r) => r.metadata.version)).toEqual([
        1, 2, 3,
      ]);
    });

    it('given records not numbered after the expected version, when appended, then nothing is written', async () => {
      const log = await createLog();
      const decision = aDecisionRecord();
      await expect(
        log.appendToStream(decision.metadata.stream, [decision], { expectedVersion: 1 }),
      ).rejects.toThrow(InvalidAppendError);
      await expect(log.appendToStream('job#other', [decision], { expectedVersion: 0 })).rejects.toThrow(
        InvalidAppendError,
      );
      expect(await log.readStream(decision.metadata.stream)).toEqual([]);
    });

    it('given a decision, when later versions are appended, then the stream reads in version order', async () => {
      const log = await createLog();
      const decision = aDecisionRecord();
      const replay = (version: number): ProjectionReplayRequestedRecord => ({
        type: 'ProjectionReplayRequested',
        data: {
          replayId: `replay-${version}`,
          requestedBy: 'ops@example.com',
          why: 'fal outage',
          replayOf: 1,
          decision,
        },
        metadata: {
          stream: decision.metadata.stream,
          version,
          recordedAt: '2026-11-25T11:00:00.000Z',
          schemaVersion: 1,
          jobId: decision.metadata.jobId as string,
        },
      });
      await log.appendToStream(decision.metadata.stream, [replay(3)], { expectedVersion: 2 });
      await log.appendToStream(decision.metadata.stream, [decision, replay(2)], { expectedVersion: 0 });
      expect((await log.readStream(decision.metadata.stream)).map((r) => r.metadata.version)).toEqual([
        1, 2, 3,
      ]);
    });

    it('given no stream, when it is read, then it is empty', async () => {
      const log = await createLog();
      expect(await log.readStream('job#never-seen')).toEqual([]);
    });
  });
}
