/**
 * The contract every JobsTable implementation must pass (in memory in unit tests, DynamoDB Local in
 * integration tests): read, then converge under the routing rule — also when the item changed
 * between the read and the write — keeping the platform's attributes.
 */
import { describe, expect, it } from 'vitest';
import type { JobsTable, PlannedJobStatus } from '../../src/ports/jobs-table.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { aNoRouteRecord, aReplayOf, aRoutedRecord } from './records.ts';

/** A Jobs table under test, with a way to set and see items as the platform would. */
export interface JobsFixture {
  readonly jobs: JobsTable;
  seed(item: Record<string, unknown>): Promise<void>;
  remove(jobId: string): Promise<void>;
  item(jobId: string): Promise<Record<string, unknown> | undefined>;
}

const statusOf = (record: Parameters<typeof planEffects>[0]): PlannedJobStatus =>
  planEffects(record).jobStatus as PlannedJobStatus;

/** Reads, then writes, as the projector does. */
async function converge(jobs: JobsTable, updates: readonly PlannedJobStatus[]) {
  return jobs.write(updates, await jobs.read(updates.map((u) => u.jobId)));
}

export function jobsTableContract(name: string, createFixture: () => Promise<JobsFixture> | JobsFixture) {
  describe(`${name} honours the Jobs table contract`, () => {
    it('given no item, when a routed status is written, then the item is created with the routing attributes only', async () => {
      const { jobs, item } = await createFixture();
      const update = statusOf(aRoutedRecord({ provider: 'fal' }));

      expect(await jobs.read([update.jobId])).toEqual(new Map());
      expect(await converge(jobs, [update])).toEqual([{ ok: true, outcome: 'applied' }]);

      expect(await item(update.jobId)).toEqual({
        jobId: update.jobId,
        status: 'ROUTED',
        provider: 'fal',
        model: update.model,
        queue: update.queue,
        routedAt: update.routedAt,
        routingVersion: 1,
        routingDone: new Set([1]),
      });
      expect(await jobs.read([update.jobId])).toEqual(
        new Map([[update.jobId, { status: 'ROUTED', routingVersion: 1, statusVersion: null, done: [1] }]]),
      );
    });

    it("given a SUBMITTED item of the platform, when a status is written, then the routing attributes converge and the platform's stay", async () => {
      const { jobs, seed, item } = await createFixture();
      const update = statusOf(aNoRouteRecord());
      await seed({ jobId: update.jobId, status: 'SUBMITTED', provider: 'stale', submittedBy: 'frontend' });

      expect(await converge(jobs, [update])).toEqual([{ ok: true, outcome: 'applied' }]);

      expect(await item(update.jobId)).toEqual({
        jobId: update.jobId,
        status: 'REJECTED',
        reason: 'no_route',
        routedAt: update.routedAt,
        routingVersion: 1,
        routingDone: new Set([1]),
        submittedBy: 'frontend',
      });
    });

    it('given a newer routing version, when a status is written, then it is superseded and the item unchanged', async () => {
      const { jobs, item } = await createFixture();
      const decision = aRoutedRecord();
      const older = statusOf(decision);
      await converge(jobs, [statusOf(aReplayOf(decision, 2))]);
      const newer = await item(older.jobId);

      expect(await converge(jobs, [older])).toEqual([{ ok: true, outcome: 'superseded' }]);
      expect(await item(older.jobId)).toEqual(newer);
    });

    it('given a provider’s RUNNING of this dispatch, when its status is written, then the routing attributes converge and RUNNING stays', async () => {
      const { jobs, seed, item } = await createFixture();
      const update = statusOf(aRoutedRecord({ provider: 'fal' }));
      // The consumer received the message before the Jobs write landed: no routing attributes yet.
      await seed({ jobId: update.jobId, status: 'RUNNING', statusVersion: 1 });

      expect(await converge(jobs, [update])).toEqual([{ ok: true, outcome: 'applied' }]);
      expect(await item(update.jobId)).toEqual({
        jobId: update.jobId,
        status: 'RUNNING',
        statusVersion: 1,
        provider: 'fal',
        model: update.model,
        queue: update.queue,
        routedAt: update.routedAt,
        routingVersion: 1,
        routingDone: new Set([1]),
      });
    });

    it('given a provider’s RUNNING of v1, when a re-route writes v2, then the item moves to v2 and its status is ROUTED again', async () => {
      const { jobs, seed, item } = await createFixture();
      const decision = aRoutedRecord({ provider: 'fal' });
      await converge(jobs, [statusOf(decision)]);
      const jobId = decision.metadata.jobId as string;
      await seed({ ...(await item(jobId)), status: 'RUNNING', statusVersion: 1, resultUrl: 'kept' });
      const moved = { ...statusOf(aReplayOf(decision, 2)), provider: 'replicate', model: 'wan-2.1-i2v' };

      expect(await converge(jobs, [moved])).toEqual([{ ok: true, outcome: 'applied' }]);
      expect(await item(jobId)).toMatchObject({
        status: 'ROUTED',
        statusVersion: 1,
        provider: 'replicate',
        routingVersion: 2,
        routingDone: new Set([1, 2]),
        resultUrl: 'kept',
      });
    });

    it('given a provider’s status without statusVersion, then it is taken to be about the item’s routing version', async () => {
      const { jobs, seed, item } = await createFixture();
      const decision = aRoutedRecord();
      const jobId = decision.metadata.jobId as string;
      await seed({ jobId, status: 'SUCCEEDED', routingVersion: 1 });

      expect(await converge(jobs, [statusOf(decision)])).toEqual([{ ok: true, outcome: 'applied' }]);
      expect(await item(jobId)).toMatchObject({ status: 'SUCCEEDED', routingVersion: 1 });
      expect(await converge(jobs, [statusOf(aReplayOf(decision, 2))])).toEqual([
        { ok: true, outcome: 'applied' },
      ]);
      expect(await item(jobId)).toMatchObject({ status: 'ROUTED', routingVersion: 2 });
    });

    it('given a decision and its replay written in one call, then both apply in order and both versions are done', async () => {
      const { jobs, item } = await createFixture();
      const decision = aRoutedRecord();
      const first = statusOf(decision);

      expect(await converge(jobs, [first, statusOf(aReplayOf(decision, 2))])).toEqual([
        { ok: true, outcome: 'applied' },
        { ok: true, outcome: 'applied' },
      ]);

      expect(await item(first.jobId)).toMatchObject({ routingVersion: 2, routingDone: new Set([1, 2]) });
      expect((await jobs.read([first.jobId])).get(first.jobId)?.done).toEqual([1, 2]);
    });

    it('given two projectors that read the same item (two shards), when both write, then both versions stay done', async () => {
      const { jobs, item } = await createFixture();
      const decision = aRoutedRecord();
      await converge(jobs, [statusOf(decision)]);
      const jobId = decision.metadata.jobId as string;
      const found = await jobs.read([jobId]);

      await jobs.write([statusOf(aReplayOf(decision, 2))], found);
      await jobs.write([statusOf(aReplayOf(decision, 3))], found);

      expect(await item(jobId)).toMatchObject({ routingVersion: 3, routingDone: new Set([1, 2, 3]) });
    });

    it('given the same status written twice (a redelivery), then the item is the same', async () => {
      const { jobs, item } = await createFixture();
      const update = statusOf(aRoutedRecord());
      await converge(jobs, [update]);
      const once = await item(update.jobId);

      expect((await converge(jobs, [update]))[0]?.ok).toBe(true);
      expect(await item(update.jobId)).toEqual(once);
    });

    it('given items that changed between the read and the write, when writing, then each still converges by the rule', async () => {
      const { jobs, seed, remove, item } = await createFixture();
      const created = statusOf(aRoutedRecord());
      const removed = statusOf(aRoutedRecord());
      const advanced = statusOf(aRoutedRecord());
      await seed({ jobId: removed.jobId, status: 'SUBMITTED' });
      await seed({ jobId: advanced.jobId, status: 'PENDING' });
      const found = await jobs.read([created.jobId, removed.jobId, advanced.jobId]);
      await seed({ jobId: created.jobId, status: 'SUBMITTED', submittedBy: 'frontend' });
      await remove(removed.jobId);
      await seed({ jobId: advanced.jobId, status: 'SUCCEEDED' });

      expect(await jobs.write([created, removed, advanced], found)).toEqual([
        { ok: true, outcome: 'applied' },
        { ok: true, outcome: 'applied' },
        { ok: true, outcome: 'applied' },
      ]);

      expect(await item(created.jobId)).toMatchObject({ status: 'ROUTED', submittedBy: 'frontend' });
      expect(await item(removed.jobId)).toMatchObject({ status: 'ROUTED', routingVersion: 1 });
      // The provider's status stays; the routing attributes converge beside it.
      expect(await item(advanced.jobId)).toMatchObject({ status: 'SUCCEEDED', routingVersion: 1 });
    });

    it('given 60 statuses in one write, then each has its own result, in input order', async () => {
      const { jobs, seed } = await createFixture();
      const updates = Array.from({ length: 60 }, (_, i) =>
        statusOf(i % 3 === 0 ? aNoRouteRecord() : aRoutedRecord()),
      );
      const running = updates[7] as PlannedJobStatus;
      await seed({ jobId: running.jobId, status: 'RUNNING', routingVersion: 2 });

      const results = await converge(jobs, updates);

      expect(results.map((r) => r.ok && r.outcome)).toEqual(
        updates.map((u) => (u === running ? 'superseded' : 'applied')),
      );
      const read = await jobs.read(updates.map((u) => u.jobId));
      expect(read.size).toBe(60);
    });
  });
}
