/**
 * `routing-manager what-if --rules FILE --since T --until T [--provider P …]`: re-decide the logged
 * submissions of a window with a candidate routing table and print how the decisions would change
 * (outcome, provider, model, reason), examples and the estimated cost delta. Changes nothing.
 */

import type { Command } from 'commander';
import { AUTO_PROVIDER } from '../../intake/submission.ts';
import { CachedEtaReader } from '../../provider-health/eta-cache.ts';
import { auditWindow } from '../../queries/audit-window.ts';
import {
  balancesToLookUp,
  describeFacts,
  providersToScan,
  type WhatIfSummary,
  whatIf,
} from '../../queries/what-if.ts';
import { balancesOf, decisionsIn } from '../../queries/window-reads.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { type EtaContext, tableUsesEta } from '../../routing/eta.ts';
import type { RoutingTable } from '../../routing/routing-table.ts';
import type { CliContext } from '../cli-context.ts';
import { collect, positiveInteger, windowOptions } from '../options.ts';
import {
  COST_UNIT,
  jsonLine,
  movesSection,
  orDash,
  renderCostChange,
  renderFacts,
  tableSection,
} from '../output.ts';
import { readRoutingTableFile } from '../rules-files.ts';
import { checkNames } from '../vocabulary.ts';

interface WhatIfOptions {
  rules: string;
  since: string;
  until: string;
  provider?: string[];
  examples: number;
}

export function renderWhatIf(summary: WhatIfSummary, providers: readonly string[]): string {
  const lines = [
    renderFacts([
      ['candidate rules', summary.rulesVersion],
      ['partitions', providers.join(', ')],
      ['decisions scanned', String(summary.scanned)],
      ['would change', String(summary.changed)],
      ['  outcome', String(summary.byKind.outcome)],
      ['  provider', String(summary.byKind.provider)],
      ['  model', String(summary.byKind.model)],
      ['  reason', String(summary.byKind.reason)],
      ['unchanged', `${summary.unchanged} (of which ${summary.intakeRejections} rejected at intake)`],
      ['estimated cost', renderCostChange(summary.cost)],
    ]),
  ];
  lines.push(
    ...tableSection(
      'cost error (charged vs estimated, per output second, recorded windows):',
      ['provider', 'model', 'charged', 'output', 'error'],
      (summary.costError ?? []).map((c) => [
        c.provider,
        c.model,
        `$${c.chargedUsd}`,
        `${c.outputSec}s`,
        c.error === null ? '- (no usdPerCredit)' : `${c.error >= 0 ? '+' : ''}${(c.error * 100).toFixed(1)}%`,
      ]),
    ),
    ...movesSection(summary.transitions),
    ...tableSection(
      'examples:',
      ['recordedAt', 'jobId', 'before', 'after', 'rule after'],
      summary.examples.map((e) => [
        e.recordedAt,
        orDash(e.jobId ?? e.stream),
        describeFacts(e.before),
        describeFacts(e.after),
        orDash(e.after.rule),
      ]),
    ),
  );
  return lines.join('\n');
}

/**
 * The completion times and charges of the recorded signal windows (closing any that are due), for a
 * candidate table that prefers by eta or cost, bounds a tier's ETA or prices credits in dollars.
 */
async function etaFor(context: CliContext, table: RoutingTable): Promise<EtaContext | undefined> {
  if (!tableUsesEta(table) && table.usdPerCredit === undefined) return undefined;
  const healthTable = context.healthTable(undefined);
  const { windows } = context.ports().providerHealth(healthTable);
  return context.onTable(healthTable, () =>
    new CachedEtaReader({ windows }, { ttlMs: 0 }).context(table.providers, context.now()),
  );
}

export function registerWhatIf(program: Command, contextOf: (command: Command) => CliContext) {
  windowOptions(
    program
      .command('what-if')
      .description(
        're-decide the logged submissions of a window with a candidate routing table; changes nothing',
      )
      .requiredOption(
        '--rules <file>',
        'the candidate routing table (JSON, the schema of src/routing/routing-table.ts)',
      ),
  )
    .option(
      '--provider <provider>',
      'only these index partitions (repeatable; default: every provider of both tables, none, auto)',
      collect,
    )
    .option('--examples <n>', 'changed decisions to show', positiveInteger, 5)
    .action(async (options: WhatIfOptions, command: Command) => {
      const context = contextOf(command);
      const window = auditWindow(options.since, options.until, context.now());
      const table = await readRoutingTableFile(options.rules);
      const only = options.provider ?? [];
      await checkNames(context, { providers: only }, [table]);
      const providers = providersToScan([defaultRoutingTable, table], [AUTO_PROVIDER], only);
      const { decisions, credits } = context.ports();
      const records = await context.onTable(context.tables.log, () =>
        decisionsIn(decisions, providers, window),
      );
      const balances = await context.onTable(context.tables.credits, () =>
        balancesOf(credits, balancesToLookUp(records, table)),
      );
      const eta = await etaFor(context, table);
      const { summary } = whatIf(records, table, (userId) => balances.get(userId), {
        examples: options.examples,
        ...(eta ? { eta } : {}),
      });
      context.out(
        context.json
          ? jsonLine({
              ...summary,
              cost: { ...summary.cost, unit: COST_UNIT },
              providers,
              since: window.since,
              until: window.until,
            })
          : renderWhatIf(summary, providers),
      );
    });
}
