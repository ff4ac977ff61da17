/**
 * The contract every JobStatusReader must pass (in-memory twin in unit tests, DynamoDB in
 * integration tests): a projected job reads back whole, other agents' attributes included; a job
 * never projected is null.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JobProjection, JobStatusReader } from '../../src/ports/job-status-reader.ts';

export function jobStatusReaderContract(
  name: string,
  withItems: (items: readonly JobProjection[]) => Promise<JobStatusReader> | JobStatusReader,
) {
  describe(`${name} honours the job-status reader contract`, () => {
    it("given a projected job, when read, then its routing attributes and other agents' come back", async () => {
      const item: JobProjection = {
        jobId: `job-${randomUUID()}`,
        status: 'ROUTED',
        provider: 'fal',
        model: 'wan-i2v',
        queue: 'fal',
        routedAt: '2026-11-25T10:00:01.000Z',
        routingVersion: 2,
        renderProgress: 40,
      };
      const reader = await withItems([item]);
      expect(await reader.read(item.jobId)).toEqual(item);
    });

    it('given a job never projected, when read, then it is null', async () => {
      const reader = await withItems([]);
      expect(await reader.read(`job-${randomUUID()}`)).toBeNull();
    });
  });
}
