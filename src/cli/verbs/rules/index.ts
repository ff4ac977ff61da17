/**
 * `routing-manager rules …`: the routing rules as published, versioned records
 * (src/log/rules-records.ts). The CLI parses and prints; every change is the ChangeRules command
 * handler (src/commands/change-rules.ts). One file a subcommand, in this folder.
 *
 *   validate FILE            every problem of a candidate table at once (exit 2 when there are any)
 *   export [--version V]     the active table (or any published version) as JSON
 *   publish FILE --why       make a table active, after the what-if gate (exit 4 when refused)
 *   promote / rollback       canary → active; stop the canary, or restore the previous active version
 *   shadow FILE | --stop     evaluate a candidate beside every decision, never acting on it
 *   canary FILE --percent P  let a candidate decide the jobs whose stable bucket falls under P %
 *   history, diff A B, shadow-report
 */
import type { Command } from 'commander';
import { registerRulesChanges } from './change.ts';
import type { ContextOf } from './change-report.ts';
import { registerRulesDiff } from './diff.ts';
import { registerRulesExport } from './export.ts';
import { registerRulesHistory } from './history.ts';
import { registerRulesPublish } from './publish.ts';
import { registerRulesShadowReport } from './shadow-report.ts';
import { registerRulesValidate } from './validate.ts';

export function registerRules(program: Command, contextOf: ContextOf) {
  const rules = program
    .command('rules')
    .description('validate, publish, shadow, canary and roll back routing tables');
  registerRulesValidate(rules, contextOf);
  registerRulesExport(rules, contextOf);
  registerRulesPublish(rules, contextOf);
  registerRulesChanges(rules, contextOf);
  registerRulesHistory(rules, contextOf);
  registerRulesDiff(rules, contextOf);
  registerRulesShadowReport(rules, contextOf);
}
