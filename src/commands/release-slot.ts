/**
 * ReleaseSlot: a terminal `provider.attempt.completed` (succeeded or failed_terminal) frees the
 * slot its dispatch took. The shards to look in follow from the dispatchId and the provider's
 * concurrency in the rules in force, so it needs no read of the job. Idempotent: the release is
 * conditional on the holder, so a duplicate report, or a report for a slot that already expired,
 * frees nothing. `failed_retryable` and `unknown` keep the slot: the job may still be running.
 * A freed slot wakes the provider's waiting line (`slot_freed` on the hold backlog). Sent after the
 * release: should the send fail, the signal is retried (EventBridge) and the release, found done,
 * does not send again — the held jobs' own bounded re-check still decides them.
 */
import type { HoldBacklog } from '../ports/hold-backlog.ts';
import type { SlotLedger } from '../ports/slot-ledger.ts';
import type { AttemptOutcome } from '../provider-health/breaker.ts';
import { releaseSlot } from '../provider-health/slot-claims.ts';
import type { RulesReader } from '../rules/active-rules.ts';

export interface ReleaseSlotDependencies {
  readonly ledger: SlotLedger;
  readonly rules: RulesReader;
  /**
   * The hold backlog: a freed slot sends `slot_freed` for its provider at once, so the oldest job
   * held for it is decided again now rather than at its next bounded re-check (src/commands/hold-job.ts).
   */
  readonly backlog?: HoldBacklog;
}

const TERMINAL: readonly AttemptOutcome[] = ['succeeded', 'failed_terminal'];

export type ReleaseSlotResult = 'released' | 'not_held' | 'not_terminal' | 'unlimited';

export async function releaseCompletedSlot(
  attempt: { readonly provider: string; readonly dispatchId: string; readonly outcome: AttemptOutcome },
  deps: ReleaseSlotDependencies,
): Promise<ReleaseSlotResult> {
  if (!TERMINAL.includes(attempt.outcome)) return 'not_terminal';
  const rules = await deps.rules.current();
  const provider = rules.table.providers[attempt.provider] ?? rules.canary?.table.providers[attempt.provider];
  if (provider?.concurrency === undefined) return 'unlimited';
  const released = await releaseSlot(deps.ledger, {
    provider: attempt.provider,
    concurrency: provider.concurrency,
    dispatchId: attempt.dispatchId,
  });
  if (!released) return 'not_held';
  await deps.backlog?.send({ kind: 'slot_freed', provider: attempt.provider }, 0);
  return 'released';
}
