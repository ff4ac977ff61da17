/**
 * `routing-manager rules …`: the routing table as an operator sees it.
 *   validate FILE   every problem of a candidate table at once, with its path and the allowed values
 *   export          the active table as JSON (a starting point for `what-if` and `rules publish`)
 */
import type { Command } from 'commander';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { routingTableProblems, routingTableSchema } from '../../routing/routing-table.ts';
import { type CliContext, EXIT_USAGE } from '../cli-context.ts';
import { jsonLine } from '../output.ts';
import { readRulesJson } from './what-if.ts';

export function registerRules(program: Command, contextOf: (command: Command) => CliContext) {
  const rules = program.command('rules').description('validate, export and publish routing tables');

  rules
    .command('validate')
    .description('check a routing table file; prints every problem at once (exit 2 when there are any)')
    .argument('<file>', 'routing table JSON')
    .option('--json', 'the result as one JSON object')
    .action(async (file: string, options: { json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const input = await readRulesJson(file, 'rules validate');
      const problems = routingTableProblems(input);
      if (problems.length > 0) context.exitCode = EXIT_USAGE;
      if (options.json) {
        context.out(jsonLine({ file, valid: problems.length === 0, problems }));
        return;
      }
      if (problems.length === 0) {
        const table = routingTableSchema.parse(input);
        context.out(
          `${file}: valid — version ${table.version}, ${table.rules.length} rules, providers ${Object.keys(table.providers).join(', ')}`,
        );
        return;
      }
      context.out(
        [
          `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
          ...problems.map((p) => `  ${p}`),
        ].join('\n'),
      );
    });

  rules
    .command('export')
    .description('print the active routing table as JSON')
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      context.out(JSON.stringify(defaultRoutingTable, null, 2));
    });
}
