/**
 * The credit balance port. `Credits-<Stage>` is owned by the CreditReconciler agent; this project
 * only reads it. A missing record is `null` — "no credit record" — which a rule that requires
 * credits treats as insufficient (fail closed), and which no default rule consults. Adapter:
 * src/aws/dynamodb-credit-balances.ts; in-memory twin: src/memory/in-memory-credit-balances.ts.
 * Both pass tests/support/credit-balances-contract.ts.
 */
export interface CreditBalances {
  balanceOf(userId: string): Promise<number | null>;
}
