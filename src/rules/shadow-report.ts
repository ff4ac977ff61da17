/**
 * `rules shadow-report`: how the shadow candidate's results, stored with each decision of a window,
 * compare with what was actually decided — agreement rate, moves (from → to) and the cost delta.
 * Pure; the decisions come in.
 */
import type { DecisionRecord } from '../log/routing-records.ts';
import { CostTally, compareCosts } from '../routing/cost.ts';

export interface ShadowReport {
  readonly decisions: number;
  readonly shadowed: number;
  readonly agreed: number;
  /** Percent of shadowed decisions where the candidate decided the same (provider/model or reason). */
  readonly agreementRate: number;
  readonly candidates: readonly string[];
  readonly moves: readonly { readonly from: string; readonly to: string; readonly count: number }[];
  readonly cost: {
    readonly actual: number;
    readonly shadow: number;
    readonly delta: number;
    /** Present only when some costs were not computable (src/routing/cost.ts): not in the totals. */
    readonly notComputable?: { readonly actual: number; readonly shadow: number };
  };
}

export function shadowReport(records: readonly DecisionRecord[]): ShadowReport {
  let agreed = 0;
  const actualCost = new CostTally();
  const shadowCost = new CostTally();
  const candidates = new Set<string>();
  const moves = new Map<string, { from: string; to: string; count: number }>();
  const shadowed = records.filter((record) => record.data.shadow !== undefined);
  for (const record of shadowed) {
    const shadow = record.data.shadow as NonNullable<DecisionRecord['data']['shadow']>;
    candidates.add(shadow.rulesVersion);
    const from =
      record.type === 'RoutingDecided'
        ? `${record.data.provider}/${record.data.model}`
        : `rejected:${record.data.reason}`;
    const to =
      shadow.outcome === 'routed' ? `${shadow.provider}/${shadow.model}` : `rejected:${shadow.reason}`;
    actualCost.add(record.type === 'RoutingDecided' ? record.data.estimatedCost : 0);
    shadowCost.add(shadow.estimatedCost);
    if (from === to) {
      agreed++;
      continue;
    }
    const key = `${from}\u0000${to}`;
    const move = moves.get(key) ?? { from, to, count: 0 };
    move.count++;
    moves.set(key, move);
  }
  return {
    decisions: records.length,
    shadowed: shadowed.length,
    agreed,
    agreementRate: shadowed.length === 0 ? 0 : Math.round((agreed / shadowed.length) * 10_000) / 100,
    candidates: [...candidates].sort(),
    moves: [...moves.values()].sort((a, b) => b.count - a.count || a.from.localeCompare(b.from)),
    cost: costOfShadow(actualCost, shadowCost),
  };
}

function costOfShadow(actual: CostTally, shadow: CostTally): ShadowReport['cost'] {
  const { before, after, delta, notComputable } = compareCosts(actual, shadow);
  return {
    actual: before,
    shadow: after,
    delta,
    ...(notComputable
      ? { notComputable: { actual: notComputable.before, shadow: notComputable.after } }
      : {}),
  };
}
