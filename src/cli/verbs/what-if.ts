/**
 * `routing-manager what-if --rules FILE --since T --until T [--provider P …]`: re-decide the logged
 * submissions of a window with a candidate routing table and print how the decisions would change
 * (outcome, provider, model, reason), examples and the estimated cost delta. Changes nothing.
 */

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DynamoDbAuditIndex } from '../../aws/dynamodb-audit-index.ts';
import { DynamoDbCreditBalances } from '../../aws/dynamodb-credit-balances.ts';
import { DynamoDbSignalWindows } from '../../aws/dynamodb-signal-windows.ts';
import { parseJsonText } from '../../intake/json-text.ts';
import { AUTO_PROVIDER } from '../../intake/submission.ts';
import type { DecisionRecord } from '../../log/routing-records.ts';
import type { AuditWindow } from '../../ports/audit-index.ts';
import { CachedEtaReader } from '../../provider-health/eta-cache.ts';
import { WINDOW_MS } from '../../provider-health/signal-windows.ts';
import { auditWindow } from '../../queries/audit-window.ts';
import {
  balancesToLookUp,
  describeFacts,
  providersToScan,
  type WhatIfSummary,
  whatIf,
} from '../../queries/what-if.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { type EtaContext, tableUsesEta } from '../../routing/eta.ts';
import {
  InvalidRoutingTableError,
  loadRoutingTable,
  type RoutingTable,
} from '../../routing/routing-table.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { COST_UNIT, jsonLine, orDash, renderCostChange, renderFacts, renderTable } from '../output.ts';
import { checkNames } from '../vocabulary.ts';
import { collect, positiveInteger, windowOptions } from './decisions.ts';

/** A rules file's JSON value; a missing or non-JSON file is a usage error naming the file. */
export async function readRulesJson(path: string, label = '--rules'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${label} ${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = parseJsonText(text);
  if (parsed.ok) return parsed.value;
  throw new UsageError(`${label} ${path}:${parsed.line}:${parsed.column}: not JSON: ${parsed.problem}`);
}

/** A validated candidate table; every problem of an invalid one is listed in the usage error. */
export async function readRoutingTableFile(path: string, label = '--rules'): Promise<RoutingTable> {
  const input = await readRulesJson(path, label);
  try {
    return loadRoutingTable(input);
  } catch (error) {
    if (error instanceof InvalidRoutingTableError)
      throw new UsageError(`${label} ${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

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
  if (summary.costError && summary.costError.length > 0) {
    lines.push(
      '',
      'cost error (charged vs estimated, per output second, recorded windows):',
      renderTable(
        ['provider', 'model', 'charged', 'output', 'error'],
        summary.costError.map((c) => [
          c.provider,
          c.model,
          `$${c.chargedUsd}`,
          `${c.outputSec}s`,
          c.error === null
            ? '- (no usdPerCredit)'
            : `${c.error >= 0 ? '+' : ''}${(c.error * 100).toFixed(1)}%`,
        ]),
      ),
    );
  }
  if (summary.transitions.length > 0) {
    lines.push(
      '',
      renderTable(
        ['from', 'to', 'count'],
        summary.transitions.map((t) => [t.from, t.to, String(t.count)]),
      ),
    );
  }
  if (summary.examples.length > 0) {
    lines.push(
      '',
      'examples:',
      renderTable(
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
  }
  return lines.join('\n');
}

/** Every decision filed under these providers in the window (audit index queries only). */
export async function decisionsIn(
  context: CliContext,
  providers: readonly string[],
  window: AuditWindow,
): Promise<DecisionRecord[]> {
  const logTable = context.tables.log;
  const index = new DynamoDbAuditIndex(context.documents, logTable);
  const records: DecisionRecord[] = [];
  await context.onTable(logTable, async () => {
    for await (const record of index.decisions(providers, window)) records.push(record);
  });
  return records;
}

/** The current balances a candidate table needs that the records did not capture. */
export async function balancesFor(
  context: CliContext,
  records: readonly DecisionRecord[],
  table: RoutingTable,
): Promise<Map<string, number | null>> {
  const balances = new Map<string, number | null>();
  const users = balancesToLookUp(records, table);
  if (users.length > 0) {
    const credits = new DynamoDbCreditBalances(context.documents, context.tables.credits);
    await context.onTable(context.tables.credits, async () => {
      for (const userId of users) balances.set(userId, await credits.balanceOf(userId));
    });
  }
  return balances;
}

/**
 * The completion times and charges of the recorded signal windows (closing any that are due), for a
 * candidate table that prefers by eta or cost, bounds a tier's ETA or prices credits in dollars.
 */
async function etaFor(context: CliContext, table: RoutingTable): Promise<EtaContext | undefined> {
  if (!tableUsesEta(table) && table.usdPerCredit === undefined) return undefined;
  const healthTable = context.io.env.PROVIDER_HEALTH_TABLE ?? `ProviderHealth-${context.tables.stage}`;
  const windows = new DynamoDbSignalWindows(context.documents, healthTable, { windowMs: WINDOW_MS });
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
      const records = await decisionsIn(context, providers, window);
      const balances = await balancesFor(context, records, table);
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
