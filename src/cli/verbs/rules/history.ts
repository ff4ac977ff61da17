/** `rules history`: every change of the rules, oldest first. */
import type { Command } from 'commander';
import { rulesItemOf } from '../../../log/rules-records.ts';
import { jsonLine, renderTable } from '../../output.ts';
import { rulesHistory } from '../../rules-state.ts';
import type { ContextOf } from './change-report.ts';

export function registerRulesHistory(rules: Command, contextOf: ContextOf) {
  rules
    .command('history')
    .description('every change of the rules, oldest first')
    .option('--json', 'JSON Lines, one record per line (tables included)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const history = await rulesHistory(context);
      if (options.json) {
        // One level, as stored: the shape this output has always had.
        for (const record of history) context.out(jsonLine(rulesItemOf(record)));
        return;
      }
      if (history.length === 0) {
        context.out('no rules were ever published: the bundled default table is active');
        return;
      }
      context.out(
        renderTable(
          ['#', 'recordedAt', 'action', 'rules version', 'active after', 'by', 'why'],
          history.map(({ data, metadata }) => [
            String(metadata.version),
            metadata.recordedAt,
            `${data.action}${data.forced ? ' (forced)' : ''}${data.canary && data.action === 'canary' ? ` ${data.canary.percent}%` : ''}`,
            data.subject,
            data.active?.rulesVersion ?? 'bundled default',
            data.by,
            data.why,
          ]),
        ),
      );
    });
}
