/**
 * The contract every SlotLedger must pass (in-memory twin in unit tests, DynamoDB Local in
 * integration tests): a shard never holds more than its capacity, a holder is counted once, expired
 * holders give their slot back, a forced take still counts, a release is idempotent.
 */
import { describe, expect, it } from 'vitest';
import { MAX_WAITING_PER_PROVIDER, type SlotLedger, slotShardKey } from '../../src/ports/slot-ledger.ts';

let counter = 0;
const aProvider = () => `p${Date.now().toString(36)}-${++counter}`;
const AT = Date.parse('2026-12-06T10:00:00.000Z');
const LATER = AT + 900_000;
const take = (dispatchId: string, capacity: number, overrides: { atMs?: number; force?: boolean } = {}) => ({
  dispatchId,
  capacity,
  atMs: overrides.atMs ?? AT,
  expiresAtMs: (overrides.atMs ?? AT) + 900_000,
  ...(overrides.force ? { force: true } : {}),
});

export function slotLedgerContract(name: string, makeLedger: () => SlotLedger | Promise<SlotLedger>) {
  describe(`${name} (slot ledger contract)`, () => {
    it('given a shard of 2 slots, when three dispatches take one, then the third finds it full', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      expect(await ledger.take(ref, take('job-1:v1', 2))).toBe('taken');
      expect(await ledger.take(ref, take('job-2:v1', 2))).toBe('taken');
      expect(await ledger.take(ref, take('job-3:v1', 2))).toBe('full');
      const holders = (await ledger.read([ref])).get(slotShardKey(ref)) ?? [];
      expect(holders.map((h) => h.dispatchId).sort()).toEqual(['job-1:v1', 'job-2:v1']);
      expect(holders[0]?.expiresAtMs).toBe(LATER);
    });

    it('given a dispatch holding a slot, when it takes again (a redelivery), then it is already held and counted once', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      await ledger.take(ref, take('job-1:v1', 1));
      expect(await ledger.take(ref, take('job-1:v1', 1))).toBe('already_held');
      expect((await ledger.read([ref])).get(slotShardKey(ref))).toHaveLength(1);
    });

    it('given a full shard, when a holder is released, then the next take succeeds and a second release frees nothing', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      await ledger.take(ref, take('job-1:v1', 1));
      expect(await ledger.release(ref, 'job-1:v1')).toBe('released');
      expect(await ledger.release(ref, 'job-1:v1')).toBe('not_held');
      expect(await ledger.take(ref, take('job-2:v1', 1))).toBe('taken');
    });

    it('given a full shard whose holder passed its job timeout, when another dispatch takes, then the expired slot is taken back', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      await ledger.take(ref, take('lost:v1', 1));
      expect(await ledger.take(ref, take('job-2:v1', 1, { atMs: AT + 1000 }))).toBe('full');
      expect(await ledger.take(ref, take('job-2:v1', 1, { atMs: LATER }))).toBe('taken');
      const holders = (await ledger.read([ref])).get(slotShardKey(ref)) ?? [];
      expect(holders.map((h) => h.dispatchId)).toEqual(['job-2:v1']);
      expect(await ledger.release(ref, 'lost:v1')).toBe('not_held');
    });

    it('given a full shard, when a take is forced (route anyway), then it is held and counts against the capacity', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      await ledger.take(ref, take('job-1:v1', 1));
      expect(await ledger.take(ref, take('job-2:v1', 1, { force: true }))).toBe('taken');
      await ledger.release(ref, 'job-1:v1');
      // Two were in flight: after one release the shard is still at its capacity of one.
      expect(await ledger.take(ref, take('job-3:v1', 1))).toBe('full');
    });

    it('given shards of two providers, when read together, then each lists its own holders and unknown shards are empty', async () => {
      const ledger = await makeLedger();
      const a = { provider: aProvider(), shard: 0 };
      const b = { provider: aProvider(), shard: 3 };
      await ledger.take(a, take('a-1:v1', 4));
      await ledger.take(b, take('b-1:v1', 4));
      await ledger.take(b, take('b-2:v1', 4));
      const read = await ledger.read([a, b, { provider: aProvider(), shard: 0 }]);
      expect(read.get(slotShardKey(a))).toHaveLength(1);
      expect(read.get(slotShardKey(b))).toHaveLength(2);
      expect([...read.values()].flat()).toHaveLength(3);
    });

    it('given jobs waiting on a shard, when a new arrival takes, then it is refused although slots are free; a waiting job may take past the line', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      expect(await ledger.wait(ref, { jobId: 'held-2', sinceMs: AT + 2 })).toBe('waiting');
      expect(await ledger.wait(ref, { jobId: 'held-1', sinceMs: AT + 1 })).toBe('waiting');
      expect(await ledger.wait(ref, { jobId: 'held-1', sinceMs: AT + 1 })).toBe('already_waiting');
      expect(await ledger.waiting(ref)).toEqual([
        { jobId: 'held-1', sinceMs: AT + 1 },
        { jobId: 'held-2', sinceMs: AT + 2 },
      ]);
      expect(await ledger.take(ref, take('new:v1', 2))).toBe('full');
      expect(await ledger.take(ref, { ...take('held-1:v2', 2), waitingJobId: 'held-1' })).toBe('taken');
      expect(await ledger.leave(ref, 'held-1')).toBe('left');
      expect(await ledger.leave(ref, 'held-1')).toBe('not_waiting');
      expect(await ledger.take(ref, take('new:v1', 2))).toBe('full');
      expect(await ledger.leave(ref, 'held-2')).toBe('left');
      expect(await ledger.waiting(ref)).toEqual([]);
      expect(await ledger.take(ref, take('new:v1', 2))).toBe('taken');
      expect(await ledger.waiting({ provider: aProvider(), shard: 0 })).toEqual([]);
    });

    it('given a full waiting line, when one more job waits, then the line is full', async () => {
      const ledger = await makeLedger();
      const ref = { provider: aProvider(), shard: 0 };
      for (let i = 0; i < MAX_WAITING_PER_PROVIDER; i++)
        expect(await ledger.wait(ref, { jobId: `held-${i}`, sinceMs: AT + i })).toBe('waiting');
      expect(await ledger.wait(ref, { jobId: 'one-more', sinceMs: AT })).toBe('line_full');
      expect(await ledger.wait(ref, { jobId: 'held-0', sinceMs: AT })).toBe('already_waiting');
    }, 60_000);
  });
}
