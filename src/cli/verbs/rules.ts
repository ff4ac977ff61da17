/**
 * `routing-manager rules …`: the routing rules as published, versioned records
 * (src/log/rules-records.ts). The CLI parses and prints; every change is the ChangeRules command
 * handler (src/commands/change-rules.ts).
 *
 *   validate FILE            every problem of a candidate table at once (exit 2 when there are any)
 *   export [--version V]     the active table (or any published version) as JSON
 *   publish FILE --why       make a table active, after the what-if gate (exit 4 when refused)
 *   promote / rollback       canary → active; stop the canary, or restore the previous active version
 *   shadow FILE | --stop     evaluate a candidate beside every decision, never acting on it
 *   canary FILE --percent P  let a candidate decide the jobs whose stable bucket falls under P %
 *   history, diff A B, shadow-report
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { DynamoDbRulesLog } from '../../aws/dynamodb-rules-log.ts';
import { type ChangeRules, type ChangeRulesResult, changeRules } from '../../commands/change-rules.ts';
import { EXIT_REFUSED, EXIT_RUNTIME, EXIT_USAGE } from '../../exit-codes.ts';
import { AUTO_PROVIDER } from '../../intake/submission.ts';
import { type GateReport, type RulesRecord, tableOf } from '../../log/rules-records.ts';
import { auditWindow } from '../../queries/audit-window.ts';
import { providersToScan } from '../../queries/what-if.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import {
  type RoutingTable,
  routingTableProblems,
  routingTableSchema,
  rulesVersionOf,
} from '../../routing/routing-table.ts';
import { activeRulesOf } from '../../rules/active-rules.ts';
import { DEFAULT_GATE_THRESHOLDS, evaluateGate } from '../../rules/publish-gate.ts';
import { shadowReport } from '../../rules/shadow-report.ts';
import { diffTables } from '../../rules/table-diff.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { jsonLine, orDash, renderCostChange, renderFacts, renderTable } from '../output.ts';
import { windowOptions } from './decisions.ts';
import { balancesFor, decisionsIn, readRoutingTableFile, readRulesJson } from './what-if.ts';

type ContextOf = (command: Command) => CliContext;

interface AuthorOptions {
  why?: string;
  by?: string;
  json?: boolean;
}

function percentage(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > 100 || Math.round(parsed * 100) !== parsed * 100)
    throw new InvalidArgumentError('expected a percentage in (0, 100] with at most two decimals');
  return parsed;
}

function nonNegative(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return parsed;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function author(context: CliContext, options: AuthorOptions) {
  const why = options.why?.trim();
  if (!why) throw new UsageError('--why is required (it is recorded with the change)');
  return { why, by: options.by ?? context.io.env.USER ?? safeUserName() };
}

const rulesLogOf = (context: CliContext) => new DynamoDbRulesLog(context.documents, context.tables.log);

async function rulesHistory(context: CliContext): Promise<RulesRecord[]> {
  return context.onTable(context.tables.log, () => rulesLogOf(context).readAll());
}

const activeTableOf = (history: readonly RulesRecord[]): RoutingTable =>
  activeRulesOf(history.at(-1) ?? null, defaultRoutingTable).table;

/** `active`, `default`, a file, or a published content id (a unique prefix or label will do). */
async function resolveTable(
  context: CliContext,
  reference: string,
): Promise<{ name: string; table: RoutingTable }> {
  if (reference === 'default') return { name: 'default', table: defaultRoutingTable };
  if (existsSync(reference))
    return { name: reference, table: await readRoutingTableFile(reference, 'rules') };
  const history = await rulesHistory(context);
  if (reference === 'active') return { name: 'active', table: activeTableOf(history) };
  const found = new Map<string, RoutingTable>();
  // The bundled default decides until a table is published: `history` prints its version too.
  const bundled = rulesVersionOf(defaultRoutingTable);
  if (bundled === reference || bundled.startsWith(reference) || bundled.split('@')[0] === reference)
    found.set(bundled, defaultRoutingTable);
  for (const record of history) {
    for (const stored of [record.active, record.shadow, record.canary]) {
      if (!stored || found.has(stored.rulesVersion)) continue;
      const { rulesVersion } = stored;
      if (
        rulesVersion === reference ||
        rulesVersion.startsWith(reference) ||
        rulesVersion.split('@')[0] === reference
      )
        found.set(rulesVersion, tableOf(stored, record));
    }
  }
  const exact = found.get(reference);
  if (exact) return { name: reference, table: exact };
  if (found.size === 1) {
    const [[name, table]] = [...found.entries()] as [[string, RoutingTable]];
    return { name, table };
  }
  throw new UsageError(
    found.size === 0
      ? `no published rules version, file or keyword matches "${reference}" (active, default, a file, or a version from \`rules history\`)`
      : `"${reference}" matches several versions: ${[...found.keys()].join(', ')}`,
  );
}

/** What the gate's verdict meant for this run: it refused, would refuse (dry run), or was forced past. */
export type GateVerdict = 'refused' | 'would_refuse' | 'forced';

const GATE_NEXT = [
  'what next:',
  '  - see the decisions that would change: routing-manager what-if --rules FILE --since 24h',
  '  - or accept a larger rise: --max-cost-increase PERCENT, --max-rejection-rate-increase POINTS',
  '  - or publish anyway with --force (recorded as forced, with --why)',
];

export function renderGate(gate: GateReport, verdict: GateVerdict = 'refused'): string {
  const lines = [
    renderFacts([
      ['window', `[${gate.since}, ${gate.until})`],
      ['decisions re-decided', String(gate.scanned)],
      ['would change', String(gate.changed)],
      ['explicit-provider changes', String(gate.explicitProviderChanges)],
      ['rejection rate', `${gate.rejectionRate.before}% → ${gate.rejectionRate.after}%`],
      ['estimated cost', renderCostChange(gate.cost)],
    ]),
  ];
  if (gate.transitions.length > 0)
    lines.push(
      '',
      renderTable(
        ['from', 'to', 'count'],
        gate.transitions.map((t) => [t.from, t.to, String(t.count)]),
      ),
    );
  if (gate.violations.length === 0) return lines.join('\n');
  const violations = gate.violations.map((v) => `  - ${v}`);
  if (verdict === 'forced') lines.push('', 'forced past the gate, which found:', ...violations);
  else
    lines.push(
      '',
      verdict === 'refused' ? 'refused because:' : 'would be refused because:',
      ...violations,
      '',
      ...GATE_NEXT,
    );
  return lines.join('\n');
}

function report(context: CliContext, result: ChangeRulesResult, json: boolean | undefined) {
  if (result.outcome === 'refused') context.exitCode = EXIT_REFUSED;
  if (result.outcome === 'contended') context.exitCode = EXIT_RUNTIME;
  if (json) {
    context.out(jsonLine(result));
    return;
  }
  if (result.outcome === 'appended') {
    const { record } = result;
    context.out(
      renderFacts([
        ['action', `${record.action}${record.forced ? ' (forced past the what-if gate)' : ''}`],
        ['rules version', record.subject],
        ['record', `${record.stream} version ${record.version}`],
        ['active now', orDash(record.active?.rulesVersion ?? 'bundled default')],
        ...(record.shadow ? [['shadow', record.shadow.rulesVersion] as const] : []),
        ...(record.canary
          ? [['canary', `${record.canary.rulesVersion} on ${record.canary.percent}%`] as const]
          : []),
      ]),
    );
    if (record.gate) context.out(`\n${renderGate(record.gate, 'forced')}`);
    return;
  }
  if (result.outcome === 'refused' && result.gate) context.out(renderGate(result.gate));
  const message = `${result.outcome}: ${result.message}`;
  if (result.outcome === 'unchanged') context.out(message);
  else context.err(`routing-manager: ${message}`);
}

async function run(context: CliContext, command: ChangeRules, json: boolean | undefined) {
  const result = await context.onTable(context.tables.log, () =>
    changeRules(command, { rules: rulesLogOf(context), now: () => context.now() }),
  );
  report(context, result, json);
}

const authorOptions = (command: Command): Command =>
  command
    .option('--why <text>', 'why (recorded with the change; required)')
    .option('--by <who>', 'who asks (recorded; default: the OS user)')
    .option('--json', 'the result as one JSON object');

export function registerRules(program: Command, contextOf: ContextOf) {
  const rules = program
    .command('rules')
    .description('validate, publish, shadow, canary and roll back routing tables');

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
    .description('print the active routing table (or a published version) as JSON')
    .option('--version <version>', 'a version from `rules history` (or active, default)', 'active')
    .action(async (options: { version: string }, command: Command) => {
      const context = contextOf(command);
      const { table } = await resolveTable(context, options.version);
      context.out(JSON.stringify(table, null, 2));
    });

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
        const who = options.dryRun
          ? { why: options.why ?? '', by: options.by ?? '' }
          : author(context, options);
        const window = auditWindow(options.since, options.until, context.now());
        const active = activeTableOf(await rulesHistory(context));
        const records = await decisionsIn(context, providersToScan([active, table], [AUTO_PROVIDER]), window);
        const balances = await balancesFor(context, records, table);
        const gate = evaluateGate(records, table, (userId) => balances.get(userId), options, window);
        if (options.dryRun) {
          if (gate.violations.length > 0) context.exitCode = EXIT_REFUSED;
          context.out(
            options.json
              ? jsonLine({ dryRun: true, gate })
              : `dry run: nothing changed\n${renderGate(gate, 'would_refuse')}`,
          );
          return;
        }
        await run(
          context,
          { type: 'PublishRules', data: { ...who, table, gate, force: options.force === true } },
          options.json,
        );
      },
    );

  authorOptions(rules.command('promote').description('make the running canary the active rules')).action(
    async (options: AuthorOptions, command: Command) => {
      const context = contextOf(command);
      await run(context, { type: 'PromoteCanary', data: author(context, options) }, options.json);
    },
  );

  authorOptions(
    rules
      .command('rollback')
      .description('stop the running canary; without one, restore the previously active rules'),
  ).action(async (options: AuthorOptions, command: Command) => {
    const context = contextOf(command);
    await run(context, { type: 'RollbackRules', data: author(context, options) }, options.json);
  });

  authorOptions(
    rules
      .command('shadow')
      .description('evaluate a candidate table beside every decision (recorded, never acted on)')
      .argument('[file]', 'routing table JSON')
      .option('--stop', 'stop the shadow evaluation'),
  ).action(
    async (file: string | undefined, options: AuthorOptions & { stop?: boolean }, command: Command) => {
      const context = contextOf(command);
      if ((file === undefined) === (options.stop !== true))
        throw new UsageError('give a table file or --stop');
      const table = file === undefined ? null : await readRoutingTableFile(file, 'rules shadow');
      await run(context, { type: 'ShadowRules', data: { ...author(context, options), table } }, options.json);
    },
  );

  authorOptions(
    rules
      .command('canary')
      .description('let a candidate decide the jobs whose stable jobId bucket falls under --percent')
      .argument('[file]', 'routing table JSON')
      .option('--percent <p>', 'share of jobs, (0, 100]', percentage)
      .option('--stop', 'stop the canary (same as `rules rollback` while one runs)'),
  ).action(
    async (
      file: string | undefined,
      options: AuthorOptions & { stop?: boolean; percent?: number },
      command: Command,
    ) => {
      const context = contextOf(command);
      if ((file === undefined) === (options.stop !== true))
        throw new UsageError('give a table file or --stop');
      if (file !== undefined && options.percent === undefined) throw new UsageError('--percent is required');
      const table = file === undefined ? null : await readRoutingTableFile(file, 'rules canary');
      await run(
        context,
        { type: 'CanaryRules', data: { ...author(context, options), table, percent: options.percent ?? 0 } },
        options.json,
      );
    },
  );

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

  rules
    .command('diff')
    .description('what differs between two tables (active, default, a file, or a published version)')
    .argument('<a>', 'the table before')
    .argument('<b>', 'the table after')
    .option('--json', 'the changes as one JSON object')
    .action(async (a: string, b: string, options: { json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const before = await resolveTable(context, a);
      const after = await resolveTable(context, b);
      const changes = diffTables(before.table, after.table);
      if (options.json) {
        context.out(jsonLine({ a: before.name, b: after.name, changes }));
        return;
      }
      if (changes.length === 0) {
        context.out(`${before.name} and ${after.name} route identically (same content)`);
        return;
      }
      const shown = (value: unknown) => (value === undefined ? '-' : JSON.stringify(value));
      context.out(
        renderTable(
          ['change', 'what', 'before', 'after'],
          changes.map((change) => [
            change.kind,
            change.field ? `${change.what}: ${change.field}` : change.what,
            shown(change.before),
            shown(change.after),
          ]),
        ),
      );
    });

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
      const history = await rulesHistory(context);
      const tables = [activeTableOf(history)];
      for (const record of history) if (record.shadow) tables.push(tableOf(record.shadow, record));
      const records = await decisionsIn(context, providersToScan(tables, [AUTO_PROVIDER]), window);
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
      if (summary.moves.length > 0)
        lines.push(
          '',
          renderTable(
            ['from', 'to', 'count'],
            summary.moves.map((m) => [m.from, m.to, String(m.count)]),
          ),
        );
      context.out(lines.join('\n'));
    });
}
