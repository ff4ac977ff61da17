/**
 * What every changing `rules` verb shares: who asks and why (`--why`, `--by`, `--json`), running the
 * ChangeRules command (src/commands/change-rules.ts) and printing its result, the what-if gate's
 * report included.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { type ChangeRules, type ChangeRulesResult, changeRules } from '../../../commands/change-rules.ts';
import { EXIT_REFUSED, EXIT_RUNTIME } from '../../../exit-codes.ts';
import type { GateReport } from '../../../log/rules-records.ts';
import type { PublishGatePorts } from '../../../rules/publish-gate.ts';
import { type CliContext, UsageError } from '../../cli-context.ts';
import { jsonLine, movesSection, orDash, renderCostChange, renderFacts } from '../../output.ts';
import { changeResultJson } from '../../rules-state.ts';

export type ContextOf = (command: Command) => CliContext;

export interface AuthorOptions {
  why?: string;
  by?: string;
  json?: boolean;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function author(context: CliContext, options: AuthorOptions) {
  const why = options.why?.trim();
  if (!why) throw new UsageError('--why is required (it is recorded with the change)');
  return { why, by: options.by ?? context.io.env.USER ?? safeUserName() };
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
  lines.push(...movesSection(gate.transitions));
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

export function report(context: CliContext, result: ChangeRulesResult, json: boolean | undefined) {
  if (result.outcome === 'refused') context.exitCode = EXIT_REFUSED;
  if (result.outcome === 'contended') context.exitCode = EXIT_RUNTIME;
  if (json) {
    context.out(jsonLine(changeResultJson(result)));
    return;
  }
  if (result.outcome === 'appended') {
    const { data, metadata } = result.record;
    context.out(
      renderFacts([
        ['action', `${data.action}${data.forced ? ' (forced past the what-if gate)' : ''}`],
        ['rules version', data.subject],
        ['record', `${metadata.stream} version ${metadata.version}`],
        ['active now', orDash(data.active?.rulesVersion ?? 'bundled default')],
        ...(data.shadow ? [['shadow', data.shadow.rulesVersion] as const] : []),
        ...(data.canary
          ? [['canary', `${data.canary.rulesVersion} on ${data.canary.percent}%`] as const]
          : []),
      ]),
    );
    if (data.gate) context.out(`\n${renderGate(data.gate, 'forced')}`);
    return;
  }
  if (result.outcome === 'refused' && result.gate) context.out(renderGate(result.gate));
  const message = `${result.outcome}: ${result.message}`;
  if (result.outcome === 'unchanged') context.out(message);
  else context.err(`routing-manager: ${message}`);
}

/**
 * Runs a ChangeRules command and prints its result. A gated publication reads its window through the
 * audit index and the credit balances: a missing table is named as such (`onTable`).
 */
export async function run(context: CliContext, command: ChangeRules, json: boolean | undefined) {
  const result = await context.onTable(context.tables.log, () =>
    changeRules(command, {
      rules: context.ports().rules,
      gate: gatePorts(context),
      now: () => context.now(),
    }),
  );
  report(context, result, json);
}

/** The gate reads the window through the audit index and the credit balances, each table named if missing. */
export function gatePorts(context: CliContext): PublishGatePorts {
  const { decisions, credits } = context.ports();
  const creditsTable = context.tables.credits;
  return {
    decisions,
    credits: { balanceOf: (userId) => context.onTable(creditsTable, () => credits.balanceOf(userId)) },
  };
}

export const authorOptions = (command: Command): Command =>
  command
    .option('--why <text>', 'why (recorded with the change; required)')
    .option('--by <who>', 'who asks (recorded; default: the OS user)')
    .option('--json', 'the result as one JSON object');
