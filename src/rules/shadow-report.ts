/**
 * `rules shadow-report`: how the shadow candidate's results, stored with each decision of a window,
 * compare with what was actually decided — agreement rate, moves (from → to) and the cost delta.
 * Pure; the decisions come in.
 */
import type { DecisionRecord } from '../log/routing-records.ts';

export interface ShadowReport {
  readonly decisions: number;
  readonly shadowed: number;
  readonly agreed: number;
  /** Percent of shadowed decisions where the candidate decided the same (provider/model or reason). */
  readonly agreementRate: number;
  readonly candidates: readonly string[];
  readonly moves: readonly { readonly from: string; readonly to: string; readonly count: number }[];
  readonly cost: { readonly actual: number; readonly shadow: number; readonly delta: number };
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;

export function shadowReport(records: readonly DecisionRecord[]): ShadowReport {
  let agreed = 0;
  let actualCost = 0;
  let shadowCost = 0;
  const candidates = new Set<string>();
  const moves = new Map<string, { from: string; to: string; count: number }>();
  const shadowed = records.filter((record) => record.shadow !== undefined);
  for (const record of shadowed) {
    const shadow = record.shadow as NonNullable<DecisionRecord['shadow']>;
    candidates.add(shadow.rulesVersion);
    const from =
      record.type === 'RoutingDecided' ? `${record.provider}/${record.model}` : `rejected:${record.reason}`;
    const to =
      shadow.outcome === 'routed' ? `${shadow.provider}/${shadow.model}` : `rejected:${shadow.reason}`;
    actualCost += record.type === 'RoutingDecided' ? record.estimatedCost : 0;
    shadowCost += shadow.estimatedCost;
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
    cost: { actual: round(actualCost), shadow: round(shadowCost), delta: round(shadowCost - actualCost) },
  };
}
