/**
 * The reads a window's re-decision starts from (what-if, the publish gate, the shadow report): the
 * decisions filed under some providers in the window, and the current balances of the users a
 * candidate table needs that the records did not capture. Over ports only.
 */
import type { DecisionRecord } from '../log/routing-records.ts';
import type { AuditIndex, AuditWindow } from '../ports/audit-index.ts';
import type { CreditBalances } from '../ports/credit-balances.ts';

/** Every decision filed under these providers in the window (audit index queries only). */
export async function decisionsIn(
  index: AuditIndex,
  providers: readonly string[],
  window: AuditWindow,
): Promise<DecisionRecord[]> {
  const records: DecisionRecord[] = [];
  for await (const record of index.decisions(providers, window)) records.push(record);
  return records;
}

/** The current balance of each user (`balancesToLookUp` says whose a candidate table needs). */
export async function balancesOf(
  credits: CreditBalances,
  users: readonly string[],
): Promise<Map<string, number | null>> {
  const balances = new Map<string, number | null>();
  for (const userId of users) balances.set(userId, await credits.balanceOf(userId));
  return balances;
}
