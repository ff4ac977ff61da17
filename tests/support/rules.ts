/** Builders for routing tables and rules records, so tests state only what matters. */
import { type ChangeRules, decideRulesChange } from '../../src/commands/change-rules.ts';
import {
  initialRulesState,
  RULES_STREAM,
  type RulesRecord,
  rulesStateOf,
} from '../../src/log/rules-records.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';

/** The default table with the auto rule sending short 720p clips to replicate instead of fal. */
export function aTableRoutingAutoTo(
  provider: 'fal' | 'replicate',
  version = `auto-to-${provider}`,
): RoutingTable {
  const model = provider === 'fal' ? 'wan-i2v' : 'wan-2.1-i2v';
  return loadRoutingTable({
    ...defaultRoutingTable,
    version,
    rules: defaultRoutingTable.rules.map((rule) =>
      rule.id === 'auto-short-720p-fal' ? { ...rule, route: { provider, model } } : rule,
    ),
  });
}

/** A table that rejects every job with no_route. */
export function aTableRejectingEverything(version = 'reject-all'): RoutingTable {
  return loadRoutingTable({
    ...defaultRoutingTable,
    version,
    rules: [{ id: 'nothing', description: 'closed', when: {}, reject: 'no_route' }],
  });
}

/**
 * The records a sequence of commands appends, as the command handler would append them (on
 * `stream`: a test of a shared table keeps to a stream of its own).
 */
export function rulesRecordsOf(commands: readonly ChangeRules[], stream = RULES_STREAM): RulesRecord[] {
  const history: RulesRecord[] = [];
  const initial = { ...initialRulesState, stream };
  commands.forEach((command, i) => {
    const state = rulesStateOf(history, initial);
    const decision = decideRulesChange(state, command, `2026-11-25T1${i}:00:00.000Z`);
    if (decision.outcome !== 'append') throw new Error(`command ${i} did not append: ${decision.outcome}`);
    history.push(decision.record);
  });
  return history;
}

export const publish = (table: RoutingTable, why = 'test'): ChangeRules => ({
  type: 'PublishRules',
  data: { by: 'tester', why, table, gate: null, force: false },
});
