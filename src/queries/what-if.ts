/**
 * What-if: re-decide logged submissions with a candidate routing table and diff the outcomes
 * against what was recorded. Pure — the records, the table and the credit balances come in; the
 * real intake (`validateSubmission`) and rule engine (`decide`) do the work, so the answer is the
 * one the router would give with that table.
 *
 * Credit balances: a decision that consulted credits recorded the balance it saw
 * (`explanation.creditBalance`); that balance is reused, so the comparison is like for like. Only
 * when the record has none and the candidate table needs one is a current balance looked up (by the
 * caller, before calling this module). Provider health likewise: the breakers a decision read are
 * in its explanation, and the candidate is evaluated under that same health.
 */
import { routingInputOf } from '../content/job-content.ts';
import { SUBMISSION_DETAIL_TYPE, SUBMISSION_SOURCE, validateSubmission } from '../intake/submission.ts';
import type { DecisionRecord } from '../log/routing-records.ts';
import { healthRecordedIn } from '../provider-health/health-view.ts';
import { type CostComparison, CostTally, compareCosts, type EstimatedCost } from '../routing/cost.ts';
import { decide, tableNeedsCreditBalance } from '../routing/decide.ts';
import { costErrorOf, type EtaContext } from '../routing/eta.ts';
import { type RoutingTable, rulesVersionOf } from '../routing/routing-table.ts';

export interface DecisionFacts {
  readonly outcome: 'routed' | 'rejected';
  readonly provider: string | null;
  readonly model: string | null;
  readonly reason: string | null;
  readonly rule: string | null;
  /** Credits (0 when rejected); null: not computable (src/routing/cost.ts). */
  readonly estimatedCost: EstimatedCost;
}

export type ChangeKind = 'outcome' | 'provider' | 'model' | 'reason';

export interface ReevaluatedDecision {
  readonly stream: string;
  readonly jobId: string | null;
  readonly recordedAt: string;
  readonly before: DecisionFacts;
  readonly after: DecisionFacts;
  /** Empty when the candidate table decides the same; `outcome` implies nothing else is listed. */
  readonly changes: readonly ChangeKind[];
  /** Rejected at intake: the table was never consulted, so no table can change it. */
  readonly intakeRejection: boolean;
}

export interface WhatIfSummary {
  readonly rulesVersion: string;
  readonly scanned: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly intakeRejections: number;
  readonly byKind: Readonly<Record<ChangeKind, number>>;
  /** `before → after` (e.g. `fal/wan-i2v → replicate/wan-2.1-i2v`) with its count, most frequent first. */
  readonly transitions: readonly { readonly from: string; readonly to: string; readonly count: number }[];
  readonly cost: CostComparison;
  readonly examples: readonly ReevaluatedDecision[];
  /** Each model's measured cost error (present when the candidate table was decided with the windows). */
  readonly costError?: readonly CostErrorView[];
}

/** A user's balance for the candidate table: number, null (no credit record), undefined (unknown). */
export type BalanceLookup = (userId: string) => number | null | undefined;

export function factsOf(record: DecisionRecord): DecisionFacts {
  if (record.type === 'RoutingDecided') {
    return {
      outcome: 'routed',
      provider: record.data.provider,
      model: record.data.model,
      reason: null,
      rule: record.data.explanation.matchedRule,
      estimatedCost: record.data.estimatedCost,
    };
  }
  return {
    outcome: 'rejected',
    provider: null,
    model: null,
    reason: record.data.reason,
    rule: record.data.explanation?.matchedRule ?? null,
    estimatedCost: 0,
  };
}

/** The userIds whose current balance must be looked up: the table needs credits, the record has none. */
export function balancesToLookUp(records: readonly DecisionRecord[], table: RoutingTable): string[] {
  if (!tableNeedsCreditBalance(table)) return [];
  const users = new Set<string>();
  for (const record of records) {
    if (record.data.explanation === null || record.data.explanation.creditBalance !== undefined) continue;
    const userId = userIdOf(record);
    if (userId) users.add(userId);
  }
  return [...users].sort();
}

function userIdOf(record: DecisionRecord): string | undefined {
  try {
    const job = JSON.parse(record.data.job ?? 'null') as { userId?: unknown };
    return typeof job.userId === 'string' ? job.userId : undefined;
  } catch {
    return undefined;
  }
}

export function reevaluate(
  record: DecisionRecord,
  table: RoutingTable,
  balanceOf: BalanceLookup,
  /** The recorded windows' completion times (prefer, maxEtaSec); absent: every quote a default. */
  eta?: EtaContext,
): ReevaluatedDecision {
  const before = factsOf(record);
  const base = {
    stream: record.metadata.stream,
    jobId: record.metadata.jobId,
    recordedAt: record.metadata.recordedAt,
    before,
  };
  if (record.data.explanation === null) {
    return { ...base, after: before, changes: [], intakeRejection: true };
  }
  const intake = validateSubmission(
    {
      source: SUBMISSION_SOURCE,
      'detail-type': SUBMISSION_DETAIL_TYPE,
      // The routing facts; user id and prompt are sealed in the record and play no part in routing.
      detail: routingInputOf(record.data),
    },
    table,
  );
  let after: DecisionFacts;
  if (!intake.ok) {
    // Logged as valid, invalid today: the intake schema moved since. Worth seeing in a diff.
    after = {
      outcome: 'rejected',
      provider: null,
      model: null,
      reason: intake.reason,
      rule: null,
      estimatedCost: 0,
    };
  } else {
    const job = intake.submission;
    const recorded = record.data.explanation.creditBalance;
    const creditBalance = tableNeedsCreditBalance(table)
      ? recorded !== undefined
        ? recorded
        : (balanceOf(job.userId) ?? null)
      : undefined;
    // The health the decision read is reused too (a failed-over decision stays failed over).
    const health = healthRecordedIn(record.data.explanation);
    const decision = decide(job, {
      table,
      creditBalance,
      ...(health ? { health } : {}),
      ...(eta ? { eta } : {}),
    });
    after =
      decision.outcome === 'routed'
        ? {
            outcome: 'routed',
            provider: decision.provider,
            model: decision.model,
            reason: null,
            rule: decision.explanation.matchedRule,
            estimatedCost: decision.estimatedCost,
          }
        : {
            outcome: 'rejected',
            provider: null,
            model: null,
            reason: decision.reason,
            rule: decision.explanation.matchedRule,
            estimatedCost: 0,
          };
  }
  return { ...base, after, changes: changesBetween(before, after), intakeRejection: false };
}

function changesBetween(before: DecisionFacts, after: DecisionFacts): ChangeKind[] {
  if (before.outcome !== after.outcome) return ['outcome'];
  const changes: ChangeKind[] = [];
  if (before.provider !== after.provider) changes.push('provider');
  if (before.model !== after.model) changes.push('model');
  if (before.reason !== after.reason) changes.push('reason');
  return changes;
}

export const describeFacts = (facts: DecisionFacts): string =>
  facts.outcome === 'routed' ? `${facts.provider}/${facts.model}` : `rejected:${facts.reason}`;

export function whatIf(
  records: readonly DecisionRecord[],
  table: RoutingTable,
  balanceOf: BalanceLookup,
  options: { examples?: number; eta?: EtaContext } = {},
): { summary: WhatIfSummary; decisions: ReevaluatedDecision[] } {
  const decisions = records.map((record) => reevaluate(record, table, balanceOf, options.eta));
  const byKind: Record<ChangeKind, number> = { outcome: 0, provider: 0, model: 0, reason: 0 };
  const transitions = new Map<string, { from: string; to: string; count: number }>();
  const costBefore = new CostTally();
  const costAfter = new CostTally();
  for (const decision of decisions) {
    costBefore.add(decision.before.estimatedCost);
    costAfter.add(decision.after.estimatedCost);
    for (const kind of decision.changes) byKind[kind]++;
    if (decision.changes.length === 0) continue;
    const from = describeFacts(decision.before);
    const to = describeFacts(decision.after);
    const key = `${from}\u0000${to}`;
    const seen = transitions.get(key) ?? { from, to, count: 0 };
    seen.count++;
    transitions.set(key, seen);
  }
  const changed = decisions.filter((decision) => decision.changes.length > 0);
  return {
    decisions,
    summary: {
      rulesVersion: rulesVersionOf(table),
      scanned: decisions.length,
      changed: changed.length,
      unchanged: decisions.length - changed.length,
      intakeRejections: decisions.filter((decision) => decision.intakeRejection).length,
      byKind,
      transitions: [...transitions.values()].sort(
        (a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
      ),
      cost: compareCosts(costBefore, costAfter),
      examples: changed.slice(0, options.examples ?? 5),
      ...(options.eta ? { costError: costErrors(table, options.eta) } : {}),
    },
  };
}

export interface CostErrorView {
  readonly provider: string;
  readonly model: string;
  /** (charged − estimated) ÷ estimated per output second; null: no charge reported or no USD rate. */
  readonly error: number | null;
  /** Charged US dollars and the output seconds they paid for, in the recorded windows. */
  readonly chargedUsd: number;
  readonly outputSec: number;
}

/** Each model's measured cost error against the table's estimate (the recorded windows' charges). */
export function costErrors(table: RoutingTable, eta: EtaContext | undefined): CostErrorView[] {
  if (!eta) return [];
  return Object.entries(table.providers).flatMap(([provider, { models }]) =>
    Object.entries(models).flatMap(([model, capabilities]) => {
      const pair = eta.pairs[`${provider}#${model}`];
      if (!pair || pair.chargedOutputMs <= 0) return [];
      return [
        {
          provider,
          model,
          error: costErrorOf(pair, capabilities.pricePerSecond, table.usdPerCredit),
          chargedUsd: pair.chargedMicroUsd / 1_000_000,
          outputSec: pair.chargedOutputMs / 1000,
        },
      ];
    }),
  );
}

/** The index partitions a what-if must scan: every provider either table routes to, plus the
 * rejection partitions (`none` for intake rejections, each requestable provider incl. `auto`). */
export function providersToScan(
  tables: readonly RoutingTable[],
  requestable: readonly string[],
  only: readonly string[] = [],
): string[] {
  if (only.length > 0) return [...new Set(only)].sort();
  const providers = new Set<string>(['none', ...requestable]);
  for (const table of tables) for (const provider of Object.keys(table.providers)) providers.add(provider);
  return [...providers].sort();
}
