/**
 * The slot ledger in memory, for unit tests: passes the same contract suite as the DynamoDB
 * adapter (tests/support/slot-ledger-contract.ts), sweeping expired holders the same way.
 */
import * as port from '../ports/slot-ledger.ts';

export class InMemorySlotLedger implements port.SlotLedger {
  readonly #shards = new Map<string, Map<string, number>>();
  readonly #lines = new Map<string, Map<string, number>>();

  /** A shard's waiting line: jobId → since (ms). */
  #line(ref: port.SlotShardRef): Map<string, number> {
    return entriesOf(this.#lines, ref);
  }

  /** A shard's holders: dispatchId → expiry (ms). */
  #shard(ref: port.SlotShardRef): Map<string, number> {
    return entriesOf(this.#shards, ref);
  }

  async take(ref: port.SlotShardRef, request: port.SlotTake): Promise<port.SlotTakeResult> {
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

  async release(ref: port.SlotShardRef, dispatchId: string): Promise<'released' | 'not_held'> {
    return this.#shard(ref).delete(dispatchId) ? 'released' : 'not_held';
  }

  async wait(
    ref: port.SlotShardRef,
    job: port.WaitingJob,
  ): Promise<'waiting' | 'already_waiting' | 'line_full'> {
    const line = this.#line(ref);
    if (line.has(job.jobId)) return 'already_waiting';
    if (line.size >= port.MAX_WAITING_PER_PROVIDER) return 'line_full';
    line.set(job.jobId, job.sinceMs);
    return 'waiting';
  }

  async leave(ref: port.SlotShardRef, jobId: string): Promise<'left' | 'not_waiting'> {
    return this.#line(ref).delete(jobId) ? 'left' : 'not_waiting';
  }

  async waiting(ref: port.SlotShardRef): Promise<readonly port.WaitingJob[]> {
    return port.inLineOrder([...this.#line(ref)].map(([jobId, sinceMs]) => ({ jobId, sinceMs })));
  }

  async read(refs: readonly port.SlotShardRef[]): Promise<Map<string, readonly port.SlotHolder[]>> {
    const found = new Map<string, readonly port.SlotHolder[]>();
    for (const ref of refs) {
      const shard = this.#shards.get(port.slotShardKey(ref));
      if (shard && shard.size > 0) {
        found.set(
          port.slotShardKey(ref),
          [...shard].map(([dispatchId, expiresAtMs]) => ({ dispatchId, expiresAtMs })),
        );
      }
    }
    return found;
  }
}

/** A shard's entries in one of the ledger's maps, created empty on first use. */
function entriesOf(maps: Map<string, Map<string, number>>, ref: port.SlotShardRef): Map<string, number> {
  const key = port.slotShardKey(ref);
  let entries = maps.get(key);
  if (!entries) {
    entries = new Map();
    maps.set(key, entries);
  }
  return entries;
}
