/** `rules shadow-report`: how the shadow results stored with a window's decisions compare with what was decided. */
import type { Command } from 'commander';
import { AUTO_PROVIDER } from '../../../intake/submission.ts';
import { auditWindow } from '../../../queries/audit-window.ts';
import { providersToScan } from '../../../queries/what-if.ts';
import { decisionsIn } from '../../../queries/window-reads.ts';
import { shadowReport } from '../../../rules/shadow-report.ts';
import { windowOptions } from '../../options.ts';
import { jsonLine, movesSection, renderCostChange, renderFacts } from '../../output.ts';
import { activeRulesIn, readRulesState } from '../../rules-state.ts';
import type { ContextOf } from './change-report.ts';
import { tableCarried } from './rules-stream.ts';

export function registerRulesShadowReport(rules: Command, contextOf: ContextOf) {
  windowOptions(
    rules
      .command('shadow-report')
      .description(
        'how the shadow results stored with the decisions of a window compare with what was decided',
      ),
  )
    .option('--json', 'the report as one JSON object')
    .action(async (options: { since: string; until: string; json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const window = auditWindow(options.since, options.until, context.now());
      const rules = await readRulesState(context);
      // The providers of the active table and of every table that ran in shadow (the fold has both).
      const tables = [activeRulesIn(rules).table];
      for (const shadowed of rules.shadowed) {
        const carried = rules.tables.get(shadowed);
        if (carried) tables.push(tableCarried(rules, carried));
      }
      const providers = providersToScan(tables, [AUTO_PROVIDER]);
      const records = await context.onTable(context.tables.log, () =>
        decisionsIn(context.ports().decisions, providers, window),
      );
      const summary = shadowReport(records);
      if (options.json) {
        context.out(jsonLine({ since: window.since, until: window.until, ...summary }));
        return;
      }
      const lines = [
        renderFacts([
          ['window', `[${window.since}, ${window.until})`],
          ['decisions', String(summary.decisions)],
          ['with a shadow result', String(summary.shadowed)],
          ['candidates', summary.candidates.join(', ') || '-'],
          ['agreement', `${summary.agreed} (${summary.agreementRate}%)`],
          [
            'estimated cost',
            renderCostChange(
              {
                before: summary.cost.actual,
                after: summary.cost.shadow,
                delta: summary.cost.delta,
                ...(summary.cost.notComputable
                  ? {
                      notComputable: {
                        before: summary.cost.notComputable.actual,
                        after: summary.cost.notComputable.shadow,
                      },
                    }
                  : {}),
              },
              ['actual', 'shadow'],
            ),
          ],
        ]),
      ];
      lines.push(...movesSection(summary.moves));
      context.out(lines.join('\n'));
    });
}
