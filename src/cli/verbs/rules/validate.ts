/** `rules validate FILE`: every problem of a candidate table at once (exit 2 when there are any). */
import type { Command } from 'commander';
import { EXIT_USAGE } from '../../../exit-codes.ts';
import { routingTableProblems, routingTableSchema } from '../../../routing/routing-table.ts';
import { jsonLine } from '../../output.ts';
import { readRulesJson } from '../../rules-files.ts';
import type { ContextOf } from './change-report.ts';

export function registerRulesValidate(rules: Command, contextOf: ContextOf) {
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
}
