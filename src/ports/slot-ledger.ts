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
}

export type SlotTakeResult = 'taken' | 'already_held' | 'full';

export interface SlotHolder {
  readonly dispatchId: string;
  readonly expiresAtMs: number;
}

export interface SlotLedger {
  take(ref: SlotShardRef, request: SlotTake): Promise<SlotTakeResult>;
  /** Frees the dispatch's slot in that shard; `not_held` when it holds none there (idempotent). */
  release(ref: SlotShardRef, dispatchId: string): Promise<'released' | 'not_held'>;
  /** The holders of each shard (expired ones included), by `<provider>#<shard>`; absent shards are empty. */
  read(refs: readonly SlotShardRef[]): Promise<Map<string, readonly SlotHolder[]>>;
}

export const slotShardKey = (ref: SlotShardRef): string => `${ref.provider}#${ref.shard}`;
