/**
 * A decision that respects the providers' slot ledgers: decide (under health), and when the job is
 * routed to a provider that declares a `concurrency`, take one of its slots before anything is
 * recorded. A refused take means the provider is full: it is listed full and the decision is made
 * again, so an `auto` job goes to its next candidate (recorded `provider_full`) and an explicit one
 * meets its rule's `whenAllFull` (reject `capacity_exhausted`, or route anyway with the slot still
 * counted). Bounded: each round adds one provider to the full list.
 *
 * Taking the slot in the decision rather than at dispatch is what keeps every router honest: the
 * take is the ledger's only conditional write, so two routers can never both fill the last slot,
 * and the record that follows names the job as routed only once a slot is its own.
 */

import type { HoldBacklog } from '../ports/hold-backlog.ts';
import type { SlotLedger } from '../ports/slot-ledger.ts';
import { takeSlot } from '../provider-health/slot-claims.ts';
import type { CapacityContext, RoutingDecision } from '../routing/decide.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { DEFAULT_JOB_TIMEOUT_SEC } from '../routing/routing-table.ts';

export interface RouterCapacity {
  readonly ledger: SlotLedger;
  /**
   * The hold backlog: present, a job whose rule says `whenAllFull: hold` is held when every
   * candidate is full (src/commands/hold-job.ts); absent, it is rejected `capacity_exhausted`.
   */
  readonly backlog?: HoldBacklog;
  /** Seconds a held job waits before it is checked again without a freed slot (default DEFAULT_RECHECK_SEC). */
  readonly recheckSec?: number;
}

/** The bounded wait between two checks of a held job when no completion frees a slot. */
export const DEFAULT_RECHECK_SEC = 30;

/** The slot a routed decision holds (absent: its provider is unlimited, or nothing was routed). */
export interface HeldSlot {
  readonly provider: string;
  readonly concurrency: number;
  readonly dispatchId: string;
  readonly shard: number;
  /** `taken` by this decision, or `already_held` by the same dispatch (a redelivery). */
  readonly outcome: 'taken' | 'already_held';
}

export interface CapacityDecision<T> {
  readonly made: T;
  readonly slot?: HeldSlot;
}

export async function decideWithCapacity<T extends { readonly decision: RoutingDecision }>(
  providers: RoutingTable['providers'],
  decideWith: (capacity: CapacityContext | undefined) => Promise<T>,
  capacity: RouterCapacity | undefined,
  now: Date,
  dispatchId: string,
  /** Set when a held job is decided again: its takes may pass the jobs waiting behind it. */
  waitingJobId?: string,
): Promise<CapacityDecision<T>> {
  const limited = Object.values(providers).some((provider) => provider.concurrency !== undefined);
  if (!capacity || !limited) return { made: await decideWith(undefined) };
  const full: string[] = [];
  for (;;) {
    const made = await decideWith(full.length > 0 ? { full: [...full] } : undefined);
    const { decision } = made;
    if (decision.outcome !== 'routed') return { made };
    const catalogue = providers[decision.provider];
    const concurrency = catalogue?.concurrency;
    if (concurrency === undefined) return { made };
    const taken = await takeSlot(capacity.ledger, {
      provider: decision.provider,
      concurrency,
      dispatchId,
      atMs: now.getTime(),
      timeoutMs: (catalogue?.jobTimeoutSec ?? DEFAULT_JOB_TIMEOUT_SEC) * 1000,
      ...(decision.overflow ? { force: true } : {}),
      ...(waitingJobId !== undefined ? { waitingJobId } : {}),
    });
    if (taken.outcome !== 'full') {
      return {
        made,
        slot: {
          provider: decision.provider,
          concurrency,
          dispatchId,
          shard: taken.shard,
          outcome: taken.outcome,
        },
      };
    }
    // A provider listed full is never chosen again (only forced), so this loop ends.
    full.push(decision.provider);
  }
}

/**
 * Gives back a slot this decision took but will not use (the record was refused, or became a
 * rejection): a slot held by the same dispatch before (`already_held`) stays, it is that job's.
 */
export async function returnUnusedSlot(capacity: RouterCapacity | undefined, slot: HeldSlot | undefined) {
  if (!capacity || slot?.outcome !== 'taken') return;
  await capacity.ledger.release({ provider: slot.provider, shard: slot.shard }, slot.dispatchId);
}
