/**
 * Estimated costs in the routing table's credit units: lengthSec × pricePerSecond. Every derived
 * number must be finite and storable (a DynamoDB number holds at most ±9.99…e125, and lib-dynamodb
 * refuses Infinity and NaN outright), while the contract accepts any positive finite `lengthSec`
 * (1e308 included) and a table any non-negative price. So a cost beyond {@link MAX_ESTIMABLE_COST}
 * is *not computable* and recorded as `null`: no balance could cover it, and past 10^15 the 1/10,000
 * rounding the records use is beyond a double's precision anyway. Pure.
 */

/** The largest cost recorded as a number (credits); anything larger is `null`, "not computable". */
export const MAX_ESTIMABLE_COST = 1e15;

/** An estimated cost in credits, or null when it is beyond {@link MAX_ESTIMABLE_COST}. */
export type EstimatedCost = number | null;

/**
 * A credit balance as a decision's explanation records it: to 1/10,000 of a credit like costs, and
 * beyond ±{@link MAX_ESTIMABLE_COST} at that bound — so the number is storable (DynamoDB refuses
 * magnitudes under 1e-130 or over 9.99e125, the SDK anything past Number.MAX_SAFE_INTEGER). The
 * decision itself compares the exact balance; a bounded one would decide the same (10^15 covers
 * every computable cost, as a larger balance would).
 */
export function recordedBalance<T extends number | null | undefined>(balance: T): T {
  if (typeof balance !== 'number') return balance;
  return (roundCost(Math.min(MAX_ESTIMABLE_COST, Math.max(-MAX_ESTIMABLE_COST, balance))) || 0) as T;
}

/** Rounds to 1/10,000 of a credit, which keeps records free of float noise. */
export const roundCost = (value: number): number => Math.round(value * 10_000) / 10_000;

/** lengthSec × pricePerSecond, rounded; null when it is not finite or beyond the estimable range. */
export function estimateCost(lengthSec: number, pricePerSecond: number): EstimatedCost {
  const raw = lengthSec * pricePerSecond;
  if (!Number.isFinite(raw) || Math.abs(raw) > MAX_ESTIMABLE_COST) return null;
  return roundCost(raw);
}

/**
 * A running total of estimated costs: the computable ones summed, the others counted. Each addend
 * is at most 10^15, so a total stays finite for any count a window can hold (≈ 10^293 of them).
 */
export class CostTally {
  #total = 0;
  #notComputable = 0;

  add(cost: EstimatedCost): void {
    if (cost === null) this.#notComputable++;
    else this.#total += cost;
  }

  /** The rounded sum of the computable costs. */
  get total(): number {
    return roundCost(this.#total);
  }

  /** How many costs were not computable (absent from the total). */
  get notComputable(): number {
    return this.#notComputable;
  }
}

/** Two tallies compared: the totals of the computable costs, and (when any) how many were not. */
export interface CostComparison {
  readonly before: number;
  readonly after: number;
  readonly delta: number;
  /** Present only when a cost on either side was not computable: those are not in the totals. */
  readonly notComputable?: { readonly before: number; readonly after: number };
}

export function compareCosts(before: CostTally, after: CostTally): CostComparison {
  const comparison = {
    before: before.total,
    after: after.total,
    delta: roundCost(after.total - before.total),
  };
  return before.notComputable === 0 && after.notComputable === 0
    ? comparison
    : { ...comparison, notComputable: { before: before.notComputable, after: after.notComputable } };
}
