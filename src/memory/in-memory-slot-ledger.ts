/**
 * The slot ledger in memory, for unit tests: passes the same contract suite as the DynamoDB
 * adapter (tests/support/slot-ledger-contract.ts), sweeping expired holders the same way.
 */
import {
  inLineOrder,
  MAX_WAITING_PER_PROVIDER,
  type SlotHolder,
  type SlotLedger,
  type SlotShardRef,
  type SlotTake,
  type SlotTakeResult,
  slotShardKey,
  type WaitingJob,
} from '../ports/slot-ledger.ts';

export class InMemorySlotLedger implements SlotLedger {
  readonly #shards = new Map<string, Map<string, number>>();
  readonly #lines = new Map<string, Map<string, number>>();

  /** A shard's waiting line: jobId → since (ms). */
  #line(ref: SlotShardRef): Map<string, number> {
    return entriesOf(this.#lines, ref);
  }

  /** A shard's holders: dispatchId → expiry (ms). */
  #shard(ref: SlotShardRef): Map<string, number> {
    return entriesOf(this.#shards, ref);
  }

  async take(ref: SlotShardRef, request: SlotTake): Promise<SlotTakeResult> {
    const shard = this.#shard(ref);
    if (shard.has(request.dispatchId)) return 'already_held';
    if (!request.force && request.waitingJobId === undefined && this.#line(ref).size > 0) return 'full';
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

  async wait(ref: SlotShardRef, job: WaitingJob): Promise<'waiting' | 'already_waiting' | 'line_full'> {
    const line = this.#line(ref);
    if (line.has(job.jobId)) return 'already_waiting';
    if (line.size >= MAX_WAITING_PER_PROVIDER) return 'line_full';
    line.set(job.jobId, job.sinceMs);
    return 'waiting';
  }

  async leave(ref: SlotShardRef, jobId: string): Promise<'left' | 'not_waiting'> {
    return this.#line(ref).delete(jobId) ? 'left' : 'not_waiting';
  }

  async waiting(ref: SlotShardRef): Promise<readonly WaitingJob[]> {
    return inLineOrder([...this.#line(ref)].map(([jobId, sinceMs]) => ({ jobId, sinceMs })));
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

/** A shard's entries in one of the ledger's maps, created empty on first use. */
function entriesOf(maps: Map<string, Map<string, number>>, ref: SlotShardRef): Map<string, number> {
  const key = slotShardKey(ref);
  let entries = maps.get(key);
  if (!entries) {
    entries = new Map();
    maps.set(key, entries);
  }
  return entries;
}
