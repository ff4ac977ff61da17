/**
 * The credit balance port. `Credits-<Stage>` is owned by the CreditReconciler agent; this project
 * only reads it. A missing record is `null` — "no credit record" — which a rule that requires
 * credits treats as insufficient (fail closed), and which no default rule consults.
 */
export interface CreditBalances {
  balanceOf(userId: string): Promise<number | null>;
}

export class InMemoryCreditBalances implements CreditBalances {
  readonly #balances: Map<string, number>;
  constructor(balances: Record<string, number> = {}) {
    this.#balances = new Map(Object.entries(balances));
  }
  async balanceOf(userId: string): Promise<number | null> {
    return this.#balances.get(userId) ?? null;
  }
}
