/**
 * `routing-manager forget --user U --why TEXT [--by WHO] [--dry-run] [--json]`: erase one user's
 * content (user id, prompt, extra fields) from the Routing Manager on request. Every job erased
 * gets a ContentErased record in its log stream — who, why, when; no content — and a later replay
 * of it sends nothing. Parsing and printing only: the logic is the ForgetUser command.
 * What erasure does not reach (backups, delivered messages): docs/DATA_PROTECTION.md.
 */
import type { Command } from 'commander';
import { type ForgetSummary, forgetUser } from '../../commands/forget-user.ts';
import { EXIT_RUNTIME } from '../../exit-codes.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { jsonLine, orDash, renderFacts, renderTable } from '../output.ts';

interface ForgetOptions {
  user: string;
  why?: string;
  by?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerForget(program: Command, contextOf: (command: Command) => CliContext) {
  program
    .command('forget')
    .description("erase a user's content (user id, prompt, extra fields); the erasure is recorded in the log")
    .requiredOption('--user <userId>', 'the user whose content is erased')
    .option('--why <text>', 'the reason, e.g. the request reference (recorded; required)')
    .option('--by <who>', 'who asks (recorded; default: the OS user)')
    .option('--dry-run', 'count what would be erased; change nothing')
    .option('--json', 'the summary as one JSON object')
    .action(async (options: ForgetOptions, command: Command) => {
      const context = contextOf(command);
      const why = options.why?.trim() ?? '';
      if (!why) throw new UsageError('--why is required (it is recorded with the erasure)');
      if (!options.user.trim()) throw new UsageError('--user must name a user');
      const { log, content } = context.ports();
      const summary = await context.onTable(context.tables.content, () =>
        forgetUser(
          {
            type: 'ForgetUser',
            data: {
              userId: options.user,
              why,
              requestedBy: context.operator(options.by),
              dryRun: options.dryRun === true,
            },
          },
          {
            log,
            content,
            now: () => context.now(),
          },
        ),
      );
      context.out(options.json ? jsonLine(summary) : renderErasure(summary));
      if (summary.failed > 0) context.exitCode = EXIT_RUNTIME;
    });
}

export function renderErasure(summary: ForgetSummary): string {
  const facts = renderFacts([
    ['erasure', `${summary.erasureId}${summary.dryRun ? ' (dry run: nothing changed)' : ''}`],
    ['jobs with content', String(summary.found)],
    [summary.dryRun ? 'would erase' : 'erased', String(summary.dryRun ? summary.wouldErase : summary.erased)],
    ['already erased', String(summary.alreadyErased)],
    ...(summary.failed > 0 ? [['not erased (run again)', String(summary.failed)] as const] : []),
  ]);
  if (summary.jobs.length === 0) return facts;
  const rows = summary.jobs.map((job) => [job.stream, job.action, orDash(job.version), orDash(job.error)]);
  return `${facts}\n\n${renderTable(['stream', 'action', 'version', 'error'], rows)}`;
}
