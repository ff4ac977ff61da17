/**
 * The slot ledger in memory, for unit tests: passes the same contract suite as the DynamoDB
 * adapter (tests/support/slot-ledger-contract.ts), sweeping expired holders the same way.
 */
import {
  type SlotHolder,
  type SlotLedger,
  type SlotShardRef,
  type SlotTake,
  type SlotTakeResult,
  slotShardKey,
} from '../ports/slot-ledger.ts';

export class InMemorySlotLedger implements SlotLedger {
  readonly #shards = new Map<string, Map<string, number>>();

  #shard(ref: SlotShardRef): Map<string, number> {
    const key = slotShardKey(ref);
    let shard = this.#shards.get(key);
    if (!shard) {
      shard = new Map();
      this.#shards.set(key, shard);
    }
    return shard;
  }

  async take(ref: SlotShardRef, request: SlotTake): Promise<SlotTakeResult> {
    const shard = this.#shard(ref);
    if (shard.has(request.dispatchId)) return 'already_held';
    if (!request.force && shard.size >= request.capacity) {
      for (const [holder, expiresAtMs] of shard) if (expiresAtMs <= request.atMs) shard.delete(holder);
      if (shard.size >= request.capacity) return 'full';
    }
    shard.set(request.dispatchId, request.expiresAtMs);
    return 'taken';
  }

  async release(ref: SlotShardRef, dispatchId: string): Promise<'released' | 'not_held'> {
    return this.#shard(ref).delete(dispatchId) ? 'released' : 'not_held';
  }

  async read(refs: readonly SlotShardRef[]): Promise<Map<string, readonly SlotHolder[]>> {
    const found = new Map<string, readonly SlotHolder[]>();
    for (const ref of refs) {
      const shard = this.#shards.get(slotShardKey(ref));
      if (shard && shard.size > 0) {
        found.set(
          slotShardKey(ref),
          [...shard].map(([dispatchId, expiresAtMs]) => ({ dispatchId, expiresAtMs })),
        );
      }
    }
    return found;
  }
}
