/** Builders for re-routing tests: a routed job in an in-memory log, and failure reports of it. */

import { reviseRouting } from '../../src/commands/revise-routing.ts';
import type { RoutingDecidedRecord, RoutingRevisedRecord } from '../../src/log/routing-records.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { appendRecord } from './log-appends.ts';
import { aDecisionRecord } from './routing-log-contract.ts';

export async function aRoutedJobInLog(overrides: Record<string, unknown> = {}) {
  const log = new InMemoryRoutingLog();
  const decision = aDecisionRecord({
    lengthSec: 8,
    resolution: '720p',
    ...overrides,
  }) as RoutingDecidedRecord;
  await appendRecord(log, decision);
  return { log, decision, rules: fixedRules(defaultRoutingTable) };
}

let signals = 0;
export const aFailure = (
  decision: { jobId: string; provider: string; model: string },
  version = 1,
  overrides: Record<string, unknown> = {},
) => ({
  signalId: `sig-fail-${++signals}`,
  at: '2026-11-25T14:02:07.000Z',
  jobId: decision.jobId,
  dispatchId: `${decision.jobId}:v${version}`,
  provider: decision.provider,
  model: decision.model,
  outcome: 'failed_terminal',
  errorClass: 'server_error',
  ...overrides,
});

/** The effect plan of a revision: an auto job re-routed, or an explicit job whose provider failed. */
export async function aRevisionRecord(kind: 'routed' | 'explicit'): Promise<RoutingRevisedRecord> {
  const { log, decision, rules } = await aRoutedJobInLog(kind === 'explicit' ? { provider: 'fal' } : {});
  const result = await reviseRouting(aFailure(decision), { log, rules });
  if (result.outcome === 'ignored') throw new Error(`not revised: ${result.why}`);
  if (result.outcome === 'held') throw new Error('held, not revised');
  return result.record;
}

export const aRevisionPlan = async (kind: 'routed' | 'explicit') => planEffects(await aRevisionRecord(kind));
