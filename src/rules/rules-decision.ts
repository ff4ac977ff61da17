/**
 * A decision under the rules in force: the active table decides — or the canary candidate, for the
 * jobs whose stable bucket falls under its share — and the shadow candidate, if any, is evaluated
 * beside it and kept as a compact result that nothing acts on. Pure.
 */
import type { DefaultedField, ProviderCatalogue } from '../intake/submission.ts';
import type { ShadowResult } from '../log/routing-records.ts';
import {
  type DecisionContext,
  decide,
  type RoutingDecision,
  type RoutingFacts,
  tableNeedsCreditBalance,
} from '../routing/decide.ts';
import { type RoutingTable, rulesVersionOf } from '../routing/routing-table.ts';
import { type ActiveRules, canaryBucket, inCanary } from './active-rules.ts';

export interface RulesDecision {
  readonly decision: RoutingDecision;
  readonly shadow: ShadowResult | null;
}

/** Whether deciding under these rules needs the user's credit balance (either table may). */
export const rulesNeedCreditBalance = (rules: ActiveRules, jobId: string): boolean =>
  tableNeedsCreditBalance(deciderOf(rules, jobId).table) ||
  (rules.shadow !== null && tableNeedsCreditBalance(rules.shadow));

/** The table that decides this job under these rules (the canary's for the jobs in its share). */
export const decidingTableOf = (rules: ActiveRules, jobId: string): RoutingTable =>
  deciderOf(rules, jobId).table;

function deciderOf(rules: ActiveRules, jobId: string) {
  if (!rules.canary) return { table: rules.table, canary: undefined };
  const bucket = canaryBucket(jobId);
  const used = inCanary(bucket, rules.canary.percent);
  return {
    table: used ? rules.canary.table : rules.table,
    canary: {
      bucket,
      percent: rules.canary.percent,
      rulesVersion: rulesVersionOf(rules.canary.table),
      used,
    },
  };
}

const balanceFor = (table: RoutingTable, balance: number | null | undefined) =>
  tableNeedsCreditBalance(table) ? balance : undefined;

/**
 * The providers a request may name under these rules: those the active table declares, and the
 * canary's (it decides a share of the jobs). The shadow never decides, so it adds none.
 */
export function providersInForce(rules: ActiveRules): ProviderCatalogue {
  return { providers: { ...rules.canary?.table.providers, ...rules.table.providers } };
}

export function decideUnderRules(
  job: RoutingFacts,
  rules: ActiveRules,
  creditBalance: number | null | undefined,
  defaulted: readonly DefaultedField[] = [],
  /** Provider health and the providers already tried (src/commands/decide-with-health.ts). */
  situation: Pick<DecisionContext, 'health' | 'alreadyTried' | 'capacity' | 'eta'> = {},
): RulesDecision {
  const { table, canary } = deciderOf(rules, job.jobId);
  const made = decide(job, {
    table,
    creditBalance: balanceFor(table, creditBalance),
    defaulted,
    ...situation,
  });
  const rulesRead = rules.source === 'stale' || rules.source === 'fallback' ? rules.source : undefined;
  const decision: RoutingDecision =
    canary || rulesRead
      ? {
          ...made,
          explanation: {
            ...made.explanation,
            ...(rulesRead ? { rulesRead } : {}),
            ...(canary ? { canary } : {}),
          },
        }
      : made;
  return { decision, shadow: rules.shadow ? shadowOf(job, rules.shadow, creditBalance) : null };
}

function shadowOf(job: RoutingFacts, table: RoutingTable, balance: number | null | undefined): ShadowResult {
  const decision = decide(job, { table, creditBalance: balanceFor(table, balance) });
  const rulesVersion = decision.explanation.rulesVersion;
  return decision.outcome === 'routed'
    ? {
        rulesVersion,
        outcome: 'routed',
        provider: decision.provider,
        model: decision.model,
        reason: null,
        estimatedCost: decision.estimatedCost,
      }
    : {
        rulesVersion,
        outcome: 'rejected',
        provider: null,
        model: null,
        reason: decision.reason,
        estimatedCost: 0,
      };
}
