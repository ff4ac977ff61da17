/**
 * The `rules#routing` stream as every CLI verb reads it: its records (what `rules history` lists)
 * and its fold (src/log/rules-records.ts `rulesStateOf`), from which every reader takes what it
 * needs — the rules in force, every table ever stored, every table that ran in shadow — rather than
 * scanning the records again.
 */
import type { ChangeRulesResult } from '../commands/change-rules.ts';
import {
  RULES_STREAM,
  type RulesRecord,
  type RulesState,
  rulesItemOf,
  rulesStateOf,
} from '../log/rules-records.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { type ActiveRules, activeRulesOf } from '../rules/active-rules.ts';
import type { CliContext } from './cli-context.ts';

export async function rulesHistory(context: CliContext): Promise<RulesRecord[]> {
  return context.onTable(context.tables.log, () => context.ports().rules.readStream(RULES_STREAM));
}

export async function readRulesState(context: CliContext): Promise<RulesState> {
  return rulesStateOf(await rulesHistory(context));
}

/**
 * A rules change's result as `--json` prints it: an appended record one level, as stored (the shape
 * this output, like `rules history --json`, has always had).
 */
export const changeResultJson = (result: ChangeRulesResult): object =>
  result.outcome === 'appended' ? { ...result, record: rulesItemOf(result.record) } : result;

/** The rules in force in a state of the stream (the bundled default when nothing was published). */
export const activeRulesIn = (rules: RulesState): ActiveRules => activeRulesOf(rules, defaultRoutingTable);
