/** Credit balances in memory, for unit tests: passes the same contract suite as the DynamoDB adapter. */
import type { CreditBalances } from '../ports/credit-balances.ts';

export class InMemoryCreditBalances implements CreditBalances {
  readonly #balances: Map<string, number>;
  constructor(balances: Record<string, number> = {}) {
    this.#balances = new Map(Object.entries(balances));
  }
  async balanceOf(userId: string): Promise<number | null> {
    return this.#balances.get(userId) ?? null;
  }
}
