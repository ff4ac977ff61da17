/** `rules history`: every change of the rules, oldest first. */
import type { Command } from 'commander';
import { jsonLine, renderTable } from '../../output.ts';
import type { ContextOf } from './change-report.ts';
import { rulesHistory } from './rules-stream.ts';

export function registerRulesHistory(rules: Command, contextOf: ContextOf) {
  rules
    .command('history')
    .description('every change of the rules, oldest first')
    .option('--json', 'JSON Lines, one record per line (tables included)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const history = await rulesHistory(context);
      if (options.json) {
        for (const record of history) context.out(jsonLine(record));
        return;
      }
      if (history.length === 0) {
        context.out('no rules were ever published: the bundled default table is active');
        return;
      }
      context.out(
        renderTable(
          ['#', 'recordedAt', 'action', 'rules version', 'active after', 'by', 'why'],
          history.map((record) => [
            String(record.version),
            record.recordedAt,
            `${record.action}${record.forced ? ' (forced)' : ''}${record.canary && record.action === 'canary' ? ` ${record.canary.percent}%` : ''}`,
            record.subject,
            record.active?.rulesVersion ?? 'bundled default',
            record.by,
            record.why,
          ]),
        ),
      );
    });
}
