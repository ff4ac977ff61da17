/**
 * Taking, releasing and counting a provider's slots over the ledger port. The shards a dispatch
 * may use follow from its dispatchId and the provider's concurrency (slot-shards.ts), so a release
 * needs no read: it tries the same shards in the same order.
 */
import type { SlotLedger, SlotShardRef, SlotTake, SlotTakeResult } from '../ports/slot-ledger.ts';
import { slotShardKey } from '../ports/slot-ledger.ts';
import { shardCapacity, shardChoices, shardCount } from './slot-shards.ts';

/**
 * A dispatch's claim on one of a provider's slots. What it hands each shard's take unchanged — the
 * holder (dispatchId), now, and a held job's right to pass the line — is the port's SlotTake,
 * defined there once.
 */
export interface SlotClaim extends Pick<SlotTake, 'dispatchId' | 'atMs' | 'waitingJobId'> {
  readonly provider: string;
  readonly concurrency: number;
  /** The provider's job timeout: the slot frees itself this long after it was taken. */
  readonly timeoutMs: number;
  /** Take a slot even when every shard is full (a rule's route_anyway): it is in flight all the same. */
  readonly force?: boolean;
}

export type SlotClaimResult =
  | { readonly outcome: 'taken' | 'already_held'; readonly shard: number }
  | { readonly outcome: 'full' };

export async function takeSlot(ledger: SlotLedger, claim: SlotClaim): Promise<SlotClaimResult> {
  const choices = shardChoices(claim.dispatchId, claim.concurrency);
  for (const shard of choices) {
    const outcome = await takeOnShard(ledger, claim, shard, { waitingJobId: claim.waitingJobId });
    if (outcome !== 'full') return { outcome, shard };
  }
  if (!claim.force) return { outcome: 'full' };
  // Forced (route_anyway): the first choice takes it although full; a forced take passes the line.
  const shard = choices[0] as number;
  const outcome = await takeOnShard(ledger, claim, shard, { force: true });
  return { outcome: outcome === 'full' ? 'taken' : outcome, shard };
}

/** One shard's take for the claim: its share of the provider's slots, expiring after the job timeout. */
function takeOnShard(
  ledger: SlotLedger,
  claim: SlotClaim,
  shard: number,
  how: { readonly force?: true; readonly waitingJobId?: string | undefined },
): Promise<SlotTakeResult> {
  return ledger.take(
    { provider: claim.provider, shard },
    {
      dispatchId: claim.dispatchId,
      capacity: shardCapacity(claim.concurrency, shard),
      atMs: claim.atMs,
      expiresAtMs: claim.atMs + claim.timeoutMs,
      ...(how.force ? { force: true } : {}),
      ...(how.waitingJobId !== undefined ? { waitingJobId: how.waitingJobId } : {}),
    },
  );
}

/** Frees the dispatch's slot wherever it holds one; false when it holds none (already released, expired). */
export async function releaseSlot(
  ledger: SlotLedger,
  release: { readonly provider: string; readonly concurrency: number; readonly dispatchId: string },
): Promise<boolean> {
  for (const shard of shardChoices(release.dispatchId, release.concurrency)) {
    if ((await ledger.release({ provider: release.provider, shard }, release.dispatchId)) === 'released')
      return true;
  }
  return false;
}

export interface ProviderSlots {
  readonly provider: string;
  readonly concurrency: number;
  /** Holders whose job timeout has not passed. */
  readonly inFlight: number;
  /** Holders past their job timeout, not yet swept (they no longer count). */
  readonly expired: number;
  readonly free: number;
  readonly shards: number;
  /** Jobs held for this provider (its waiting line, src/commands/hold-job.ts). */
  readonly held: number;
}

/** Every shard of each provider read in one go (BatchGetItem), counted at `atMs`; its line read too. */
export async function readProviderSlots(
  ledger: SlotLedger,
  providers: readonly { readonly provider: string; readonly concurrency: number }[],
  atMs: number,
): Promise<ProviderSlots[]> {
  const refs: SlotShardRef[] = providers.flatMap(({ provider, concurrency }) =>
    Array.from({ length: shardCount(concurrency) }, (_, shard) => ({ provider, shard })),
  );
  const holders = await ledger.read(refs);
  // Every shard carries the same line: shard 0's is the provider's.
  const lines = await Promise.all(providers.map(({ provider }) => ledger.waiting({ provider, shard: 0 })));
  return providers.map(({ provider, concurrency }, index) => {
    let inFlight = 0;
    let expired = 0;
    for (let shard = 0; shard < shardCount(concurrency); shard++) {
      for (const holder of holders.get(slotShardKey({ provider, shard })) ?? []) {
        if (holder.expiresAtMs > atMs) inFlight++;
        else expired++;
      }
    }
    return {
      provider,
      concurrency,
      inFlight,
      expired,
      free: Math.max(0, concurrency - inFlight),
      shards: shardCount(concurrency),
      held: lines[index]?.length ?? 0,
    };
  });
}
