/**
 * How a provider's `concurrency` is split over slot shards (pure: no I/O, no clock).
 *
 * One item per provider would serialise every reservation of that provider on one DynamoDB item
 * (one partition: ≤ 1,000 writes/s, far less under contention). So the ledger is sharded: a
 * provider with concurrency C has S = ⌈C / SLOTS_PER_SHARD⌉ shard items, shard s owning
 * ⌊C / S⌋ slots plus one for the first C mod S shards — the capacities add up to exactly C, and
 * since no shard ever holds more than its own capacity, no more than C jobs are ever in flight,
 * whatever the number of routers. A dispatch tries two shards picked from its dispatchId (the
 * "power of two choices": with two probes a nearly full ledger still finds the free slots), so
 * its release knows where to look without reading anything.
 */
import { fnv1a } from '../log/fnv1a.ts';

/** Slots per shard item: 16 holders of ≈ 60 bytes keep an item under 1 KB (1 WCU a write). */
export const SLOTS_PER_SHARD = 16;

export const shardCount = (concurrency: number): number =>
  Math.max(1, Math.ceil(concurrency / SLOTS_PER_SHARD));

/** The slots shard `shard` owns; the capacities of all shards add up to `concurrency`. */
export function shardCapacity(concurrency: number, shard: number): number {
  const shards = shardCount(concurrency);
  return Math.floor(concurrency / shards) + (shard < concurrency % shards ? 1 : 0);
}

/** The shards a dispatch may hold its slot in, in the order tried (one when there is one shard). */
export function shardChoices(dispatchId: string, concurrency: number): readonly number[] {
  const shards = shardCount(concurrency);
  if (shards === 1) return [0];
  const hash = fnv1a(dispatchId);
  const first = hash % shards;
  const second = (first + 1 + ((hash >>> 16) % (shards - 1))) % shards;
  return [first, second];
}
