/**
 * The slot ledger port: how many jobs each provider account has in flight, shared by every router
 * and signal-handler instance. A provider's slots are split over shard items
 * (src/provider-health/slot-shards.ts); each operation touches one shard and is atomic on it, so
 * the count cannot drift between concurrent writers.
 *
 * Adapter: src/aws/dynamodb-slot-ledger.ts (items `slots#<provider>#<shard>` of
 * `ProviderHealth-<Stage>`); in-memory twin: src/memory/in-memory-slot-ledger.ts. Both pass
 * tests/support/slot-ledger-contract.ts.
 */

export interface SlotShardRef {
  readonly provider: string;
  readonly shard: number;
}

export interface SlotTake {
  /** The holder: the dispatch's id, so a redelivered job finds its own slot. */
  readonly dispatchId: string;
  /** Slots this shard owns; taken only while fewer are held (unless `force`). */
  readonly capacity: number;
  /** Now, in epoch ms: holders whose expiry passed are swept out before the shard counts as full. */
  readonly atMs: number;
  /** When the slot frees itself if no completion releases it (the provider's job timeout). */
  readonly expiresAtMs: number;
  /** Take it even when the shard is full (a rule's `route_anyway`): the job is in flight all the same. */
  readonly force?: boolean;
  /**
   * Set when the taker is a held job being decided again (its jobId): it may pass the jobs waiting
   * on this shard. Absent (a new arrival): the take is refused while any job waits, so a new job
   * never takes a slot ahead of a held one (the shard counts as full for it).
   */
  readonly waitingJobId?: string;
}

/** A job held for this provider (its deferral recorded), in the line since `sinceMs`. */
export interface WaitingJob {
  readonly jobId: string;
  readonly sinceMs: number;
}

/** At most this many jobs wait per provider: each is an attribute of every shard item (≈ 60 B). */
export const MAX_WAITING_PER_PROVIDER = 200;

export type SlotTakeResult = 'taken' | 'already_held' | 'full';

export interface SlotHolder {
  readonly dispatchId: string;
  readonly expiresAtMs: number;
}

export interface SlotLedger {
  take(ref: SlotShardRef, request: SlotTake): Promise<SlotTakeResult>;
  /** Frees the dispatch's slot in that shard; `not_held` when it holds none there (idempotent). */
  release(ref: SlotShardRef, dispatchId: string): Promise<'released' | 'not_held'>;
  /**
   * Puts the job in the shard's waiting line (idempotent: `already_waiting` when it is); `line_full`
   * when MAX_WAITING_PER_PROVIDER jobs already wait there.
   */
  wait(ref: SlotShardRef, job: WaitingJob): Promise<'waiting' | 'already_waiting' | 'line_full'>;
  /** Takes the job out of the shard's waiting line (idempotent). */
  leave(ref: SlotShardRef, jobId: string): Promise<'left' | 'not_waiting'>;
  /** The jobs waiting on a shard, oldest first (ties by jobId); empty for an absent shard. */
  waiting(ref: SlotShardRef): Promise<readonly WaitingJob[]>;
  /** The holders of each shard (expired ones included), by `<provider>#<shard>`; absent shards are empty. */
  read(refs: readonly SlotShardRef[]): Promise<Map<string, readonly SlotHolder[]>>;
}

/** Oldest first, ties by jobId: the order held jobs are decided again in. */
export const inLineOrder = (jobs: readonly WaitingJob[]): WaitingJob[] =>
  [...jobs].sort((a, b) => a.sinceMs - b.sinceMs || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));

export const slotShardKey = (ref: SlotShardRef): string => `${ref.provider}#${ref.shard}`;
