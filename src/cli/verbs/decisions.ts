/**
 * `routing-manager decisions --provider P --since T --until T [--outcome] [--reason R] [--model M] [--limit]`:
 * the audit query. Reads the `byProviderTimeKeys` index (Query per provider × day × shard, merged in
 * time order; never a Scan), then the listed items from the log (BatchGetItem), and prints the decisions filed under the providers in [since, until).
 */
import { type Command, Option } from 'commander';
import type { DecisionRecord } from '../../log/routing-records.ts';
import { auditWindow } from '../../queries/audit-window.ts';
import {
  type DecisionFilter,
  matchesFilter,
  OUTCOME_FILTERS,
  type OutcomeFilter,
} from '../../queries/decision-filter.ts';
import type { CliContext } from '../cli-context.ts';
import { collect, positiveInteger, windowOptions } from '../options.ts';
import { type Cost, costOf, jsonLine, orDash, renderCost, renderTable } from '../output.ts';
import { checkNames } from '../vocabulary.ts';

export interface DecisionRow {
  readonly recordedAt: string;
  readonly jobId: string | null;
  readonly stream: string;
  readonly outcome: 'routed' | 'rejected';
  readonly requestedProvider: string;
  readonly provider: string | null;
  readonly model: string | null;
  readonly queue: string | null;
  readonly reason: string | null;
  readonly matchedRule: string | null;
  readonly rulesVersion: string | null;
  readonly estimatedCost: Cost | null;
  /** Every candidate was unhealthy and the primary was taken anyway (panic mode, recorded). */
  readonly panic: boolean;
}

export function rowOf(record: DecisionRecord): DecisionRow {
  const routed = record.type === 'RoutingDecided' ? record : null;
  return {
    recordedAt: record.metadata.recordedAt,
    jobId: record.metadata.jobId,
    stream: record.metadata.stream,
    outcome: record.data.outcome,
    requestedProvider:
      record.type === 'RoutingRejected'
        ? record.data.requestedProvider
        : record.data.explanation.requestedProvider,
    provider: routed?.data.provider ?? null,
    model: routed?.data.model ?? null,
    queue: routed?.data.queue ?? null,
    reason: record.type === 'RoutingRejected' ? record.data.reason : null,
    matchedRule: record.data.explanation?.matchedRule ?? null,
    rulesVersion: record.data.explanation?.rulesVersion ?? null,
    estimatedCost: routed ? costOf(routed.data.estimatedCost) : null,
    panic: record.data.explanation?.health?.panic === true,
  };
}

interface DecisionsOptions {
  provider: string[];
  since: string;
  until: string;
  outcome?: OutcomeFilter;
  reason?: string[];
  model?: string[];
  limit?: number;
}

export function registerDecisions(program: Command, contextOf: (command: Command) => CliContext) {
  windowOptions(
    program
      .command('decisions')
      .description('audit: the decisions filed under providers in a time window (index queries only)')
      .requiredOption(
        '--provider <provider>',
        'provider (repeatable, or comma-separated; none/auto: rejections)',
        collect,
      ),
  )
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(OUTCOME_FILTERS))
    .option(
      '--reason <reason>',
      'only rejections with these reasons (repeatable, or comma-separated: no_route, invalid_request, …)',
      collect,
    )
    .option(
      '--model <model>',
      'only decisions routed to these models (repeatable, or comma-separated)',
      collect,
    )
    .option('--limit <n>', 'at most n decisions, oldest first', positiveInteger)
    .action(async (options: DecisionsOptions, command: Command) => {
      const context = contextOf(command);
      const providers = options.provider;
      const filter: DecisionFilter = {
        ...(options.outcome ? { outcome: options.outcome } : {}),
        reasons: options.reason ?? [],
        models: options.model ?? [],
      };
      const window = auditWindow(options.since, options.until, context.now());
      await checkNames(context, { providers, reasons: filter.reasons, models: filter.models });
      const index = context.ports().decisions;
      const rows: DecisionRow[] = [];
      await context.onTable(context.tables.log, async () => {
        for await (const record of index.decisions(providers, window)) {
          if (!matchesFilter(record, filter)) continue;
          const row = rowOf(record);
          if (context.json) context.out(jsonLine(row));
          rows.push(row);
          if (options.limit !== undefined && rows.length >= options.limit) break;
        }
      });
      if (context.json) return;
      context.out(
        renderTable(
          ['recordedAt', 'jobId', 'outcome', 'provider/model', 'reason', 'rule', 'est. cost'],
          rows.map((row) => [
            row.recordedAt,
            orDash(row.jobId ?? row.stream),
            row.outcome,
            row.provider ? `${row.provider}/${row.model}` : '-',
            orDash(row.reason),
            orDash(row.matchedRule),
            row.estimatedCost ? renderCost(row.estimatedCost.amount) : '-',
          ]),
        ),
      );
      context.err(`${rows.length} decision(s) in [${window.since}, ${window.until})`);
    });
}
