/** `rules export [--version V]`: the active table (or any published version) as JSON. */
import type { Command } from 'commander';
import type { ContextOf } from './change-report.ts';
import { resolveTable } from './rules-stream.ts';

export function registerRulesExport(rules: Command, contextOf: ContextOf) {
  rules
    .command('export')
    .description('print the active routing table (or a published version) as JSON')
    .option('--version <version>', 'a version from `rules history` (or active, default)', 'active')
    .action(async (options: { version: string }, command: Command) => {
      const context = contextOf(command);
      const { table } = await resolveTable(context, options.version);
      context.out(JSON.stringify(table, null, 2));
    });
}
