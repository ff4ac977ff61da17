/**
 * ReleaseSlot: a terminal `provider.attempt.completed` (succeeded or failed_terminal) frees the
 * slot its dispatch took. The shards to look in follow from the dispatchId and the provider's
 * concurrency in the rules in force, so it needs no read of the job. Idempotent: the release is
 * conditional on the holder, so a duplicate report, or a report for a slot that already expired,
 * frees nothing. `failed_retryable` and `unknown` keep the slot: the job may still be running.
 */
import type { SlotLedger } from '../ports/slot-ledger.ts';
import type { AttemptOutcome } from '../provider-health/breaker.ts';
import { releaseSlot } from '../provider-health/slot-claims.ts';
import type { RulesReader } from '../rules/active-rules.ts';

export interface ReleaseSlotDependencies {
  readonly ledger: SlotLedger;
  readonly rules: RulesReader;
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
  return released ? 'released' : 'not_held';
}
