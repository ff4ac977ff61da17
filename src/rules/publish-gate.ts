/**
 * The what-if gate of `rules publish`: before a candidate table becomes active, the decisions of a
 * recent window are re-decided with it (src/queries/what-if.ts) and the candidate is refused when it
 * would change any decision whose request named its provider explicitly, raise the rejection rate
 * or the estimated cost beyond the thresholds. `evaluateGate` is pure; `readPublishGate` is the
 * read step of the PublishRules command (src/commands/change-rules.ts) and of `rules publish --dry-run`.
 */

import { AUTO_PROVIDER } from '../intake/submission.ts';
import type { DecisionRecord } from '../log/routing-records.ts';
import type { GateReport } from '../log/rules-records.ts';
import type { AuditIndex, AuditWindow } from '../ports/audit-index.ts';
import type { CreditBalances } from '../ports/credit-balances.ts';
import { type BalanceLookup, balancesToLookUp, providersToScan, whatIf } from '../queries/what-if.ts';
import { balancesOf, decisionsIn } from '../queries/window-reads.ts';
import type { RoutingTable } from '../routing/routing-table.ts';

export interface GateThresholds {
  /** Largest accepted rise of the rejection rate, in percentage points (default 1). */
  readonly maxRejectionRateIncrease: number;
  /** Largest accepted rise of the window's estimated cost, in percent (default 5). */
  readonly maxCostIncrease: number;
}

export const DEFAULT_GATE_THRESHOLDS: GateThresholds = { maxRejectionRateIncrease: 1, maxCostIncrease: 5 };

const ratio = (part: number, whole: number): number =>
  whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 100;

export function evaluateGate(
  records: readonly DecisionRecord[],
  candidate: RoutingTable,
  balanceOf: BalanceLookup,
  thresholds: GateThresholds,
  window: { readonly since: string; readonly until: string },
): GateReport {
  const { summary, decisions } = whatIf(records, candidate, balanceOf, { examples: 0 });
  const explicitProviderChanges = decisions.filter((decision, i) => {
    const requested = records[i]?.data.explanation?.requestedProvider;
    return decision.changes.length > 0 && requested !== undefined && requested !== 'auto';
  }).length;
  const rejectionRate = {
    before: ratio(decisions.filter((d) => d.before.outcome === 'rejected').length, decisions.length),
    after: ratio(decisions.filter((d) => d.after.outcome === 'rejected').length, decisions.length),
  };
  const violations: string[] = [];
  if (explicitProviderChanges > 0) {
    violations.push(
      `${explicitProviderChanges} decision(s) for an explicitly requested provider would change`,
    );
  }
  const rejectionRise = Math.round((rejectionRate.after - rejectionRate.before) * 100) / 100;
  if (rejectionRise > thresholds.maxRejectionRateIncrease) {
    violations.push(
      `rejection rate ${rejectionRate.before}% → ${rejectionRate.after}% (+${rejectionRise} points > ${thresholds.maxRejectionRateIncrease})`,
    );
  }
  const { cost } = summary;
  const costRise =
    cost.before === 0 ? (cost.after > 0 ? Number.POSITIVE_INFINITY : 0) : (cost.delta / cost.before) * 100;
  if (costRise > thresholds.maxCostIncrease) {
    const shown = Number.isFinite(costRise) ? `+${Math.round(costRise * 100) / 100}%` : 'from nothing';
    violations.push(
      `estimated cost ${cost.before} → ${cost.after} (${shown} > ${thresholds.maxCostIncrease}%)`,
    );
  }
  const uncomputable = (cost.notComputable?.after ?? 0) - (cost.notComputable?.before ?? 0);
  if (uncomputable > 0) {
    violations.push(`${uncomputable} more decision(s) with a cost that is not computable`);
  }
  return {
    since: window.since,
    until: window.until,
    scanned: summary.scanned,
    changed: summary.changed,
    explicitProviderChanges,
    rejectionRate,
    cost: summary.cost,
    // Bounded: the report is stored in the rules record, which has an item size limit.
    transitions: summary.transitions.slice(0, 20),
    violations,
  };
}

/** What a publication asks the gate: the window to re-decide and the thresholds to hold it to. */
export interface PublishGateRequest {
  readonly window: AuditWindow;
  readonly thresholds: GateThresholds;
}

/** Where the gate reads from: the audit index (the window's decisions) and the credit balances. */
export interface PublishGatePorts {
  readonly decisions: AuditIndex;
  readonly credits: CreditBalances;
}

/**
 * The gate's read: the window's decisions filed under every provider the active or the candidate
 * table can route to (and `auto`), the balances the candidate needs that the records lack, and the
 * verdict on them.
 */
export async function readPublishGate(
  ports: PublishGatePorts,
  tables: { readonly active: RoutingTable; readonly candidate: RoutingTable },
  request: PublishGateRequest,
): Promise<GateReport> {
  const { active, candidate } = tables;
  const providers = providersToScan([active, candidate], [AUTO_PROVIDER]);
  const records = await decisionsIn(ports.decisions, providers, request.window);
  const balances = await balancesOf(ports.credits, balancesToLookUp(records, candidate));
  return evaluateGate(
    records,
    candidate,
    (userId) => balances.get(userId),
    request.thresholds,
    request.window,
  );
}
