/**
 * `rules publish FILE --why`: make a table active, after the what-if gate (exit 4 when refused).
 * The gate is the read step of the PublishRules command (src/commands/change-rules.ts); `--dry-run`
 * runs that read step alone and changes nothing.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { EXIT_REFUSED } from '../../../exit-codes.ts';
import { auditWindow } from '../../../queries/audit-window.ts';
import { DEFAULT_GATE_THRESHOLDS, readPublishGate } from '../../../rules/publish-gate.ts';
import { windowOptions } from '../../options.ts';
import { jsonLine } from '../../output.ts';
import { readRoutingTableFile } from '../../rules-files.ts';
import { activeRulesIn, readRulesState } from '../../rules-state.ts';
import {
  type AuthorOptions,
  author,
  authorOptions,
  type ContextOf,
  gatePorts,
  renderGate,
  run,
} from './change-report.ts';

function nonNegative(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return parsed;
}

export function registerRulesPublish(rules: Command, contextOf: ContextOf) {
  windowOptions(
    authorOptions(
      rules
        .command('publish')
        .description(
          'make a table the active rules, after re-deciding a recent window with it (what-if gate)',
        )
        .argument('<file>', 'routing table JSON'),
    ),
    '24h',
  )
    .option('--force', 'publish even if the gate refuses (recorded as forced)')
    .option('--dry-run', 'run the gate and print it; change nothing')
    .option(
      '--max-rejection-rate-increase <points>',
      'largest accepted rise of the rejection rate, in percentage points',
      nonNegative,
      DEFAULT_GATE_THRESHOLDS.maxRejectionRateIncrease,
    )
    .option(
      '--max-cost-increase <percent>',
      'largest accepted rise of the estimated cost, in percent',
      nonNegative,
      DEFAULT_GATE_THRESHOLDS.maxCostIncrease,
    )
    .action(
      async (
        file: string,
        options: AuthorOptions & {
          since: string;
          until: string;
          force?: boolean;
          dryRun?: boolean;
          maxRejectionRateIncrease: number;
          maxCostIncrease: number;
        },
        command: Command,
      ) => {
        const context = contextOf(command);
        const table = await readRoutingTableFile(file, 'rules publish');
        const gate = {
          window: auditWindow(options.since, options.until, context.now()),
          thresholds: {
            maxRejectionRateIncrease: options.maxRejectionRateIncrease,
            maxCostIncrease: options.maxCostIncrease,
          },
        };
        if (!options.dryRun) {
          await run(
            context,
            {
              type: 'PublishRules',
              data: { ...author(context, options), table, gate, force: options.force === true },
            },
            options.json,
          );
          return;
        }
        // The dry run: the command's read step alone, against the table active now.
        const active = activeRulesIn(await readRulesState(context)).table;
        const report = await context.onTable(context.tables.log, () =>
          readPublishGate(gatePorts(context), { active, candidate: table }, gate),
        );
        if (report.violations.length > 0) context.exitCode = EXIT_REFUSED;
        context.out(
          options.json
            ? jsonLine({ dryRun: true, gate: report })
            : `dry run: nothing changed\n${renderGate(report, 'would_refuse')}`,
        );
      },
    );
}
