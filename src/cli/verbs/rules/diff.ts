/** `rules diff A B`: what differs between two tables (active, default, a file, or a published version). */
import type { Command } from 'commander';
import { diffTables } from '../../../rules/table-diff.ts';
import { jsonLine, renderTable } from '../../output.ts';
import type { ContextOf } from './change-report.ts';
import { resolveTable } from './rules-stream.ts';

export function registerRulesDiff(rules: Command, contextOf: ContextOf) {
  rules
    .command('diff')
    .description('what differs between two tables (active, default, a file, or a published version)')
    .argument('<a>', 'the table before')
    .argument('<b>', 'the table after')
    .option('--json', 'the changes as one JSON object')
    .action(async (a: string, b: string, options: { json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const before = await resolveTable(context, a);
      const after = await resolveTable(context, b);
      const changes = diffTables(before.table, after.table);
      if (options.json) {
        context.out(jsonLine({ a: before.name, b: after.name, changes }));
        return;
      }
      if (changes.length === 0) {
        context.out(`${before.name} and ${after.name} route identically (same content)`);
        return;
      }
      const shown = (value: unknown) => (value === undefined ? '-' : JSON.stringify(value));
      context.out(
        renderTable(
          ['change', 'what', 'before', 'after'],
          changes.map((change) => [
            change.kind,
            change.field ? `${change.what}: ${change.field}` : change.what,
            shown(change.before),
            shown(change.after),
          ]),
        ),
      );
    });
}
