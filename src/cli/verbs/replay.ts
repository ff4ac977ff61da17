/**
 * `routing-manager replay --incident KEY --provider P --since T [--until T] --why TEXT [--dry-run]`:
 * after a provider outage, re-drive the projections of the decisions routed to P in the window.
 * Parsing and printing only: the read → decide → append logic is the ReplayProjections command
 * (src/commands/replay-projections.ts); its identity rules are in src/commands/replay-plan.ts.
 */
import { type Command, Option } from 'commander';
import {
  type JobReplay,
  type ReplayProgress,
  type ReplaySummary,
  replayProjections,
} from '../../commands/replay-projections.ts';
import { EXIT_RUNTIME } from '../../exit-codes.ts';
import { OUTCOME_FILTERS, type OutcomeFilter } from '../../queries/decision-filter.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { type IncidentOptions, incidentOptions, incidentRequest, windowJobPorts } from '../batch-runs.ts';
import { incidentFacts, renderBatchSummary, unfinishedFacts, versionCell } from '../batch-summary.ts';
import type { CliContext } from '../cli-context.ts';
import { collect, windowOptions } from '../options.ts';
import { jsonLine, orDash } from '../output.ts';
import { jobProgressBar } from '../progress-bar.ts';
import { checkNames, publishedTables, vocabularyOf } from '../vocabulary.ts';

interface ReplayOptions extends IncidentOptions {
  provider: string[];
  outcome: OutcomeFilter;
}

const progressBar = (context: CliContext) =>
  jobProgressBar(
    context,
    'replay [{bar}] {value}/{total} jobs | appended {appended} | already replayed {already}',
    (progress: ReplayProgress) => ({ appended: progress.appended, already: progress.alreadyReplayed }),
  );

export function registerReplay(program: Command, contextOf: (command: Command) => CliContext) {
  incidentOptions(
    windowOptions(
      program
        .command('replay')
        .description(
          're-drive the projections of the decisions routed to a provider in a window (after an outage); ' +
            'a job is re-sent at most once per --incident',
        )
        .requiredOption(
          '--incident <key>',
          'the incident key (e.g. INC-2291): the replay identity — re-running it never re-sends a job',
        )
        .requiredOption(
          '--provider <provider>',
          'the provider whose dispatches were lost (repeatable, or comma-separated)',
          collect,
        ),
    ).addOption(
      new Option('--outcome <outcome>', 'which decisions to re-project')
        .choices(OUTCOME_FILTERS)
        .default('routed'),
    ),
    {
      what: 'replay',
      payAgain:
        'COSTS MONEY: re-send these jobs although they are done (completed, failed or rejected); the ' +
        'provider is paid again (repeatable, or comma-separated)',
      dryRun: 'report what would be appended and what is skipped and why; change nothing',
    },
  ).action(async (options: ReplayOptions, command: Command) => {
    const context = contextOf(command);
    const request = incidentRequest(context, options, 'replay');
    const providers = options.provider;
    await checkNames(context, { providers });
    // Every provider a job may have been re-routed to: its stream says where it is now.
    const searchProviders = await routableProviders(context);
    const summary = await context.onTable(context.tables.log, () =>
      replayProjections(
        {
          type: 'ReplayProjections',
          data: { ...request, providers, outcome: options.outcome, searchProviders },
        },
        { ...windowJobPorts(context), ...progressBar(context) },
      ),
    );
    context.out(context.json ? jsonLine(summary) : renderSummary(summary));
    if (summary.failed > 0) context.exitCode = EXIT_RUNTIME;
  });
}

/** Every provider a routing table (bundled or published) can send a job to. */
async function routableProviders(context: CliContext): Promise<string[]> {
  const { providers } = vocabularyOf([defaultRoutingTable, ...(await publishedTables(context))]);
  return providers.filter((provider) => provider !== 'none' && provider !== 'auto');
}

export function renderSummary(summary: ReplaySummary): string {
  const facts: [string, string][] = [
    ...incidentFacts(
      summary,
      { label: 'replay', id: summary.replayId },
      `${summary.outcome} to ${summary.providers.join(', ')}`,
    ),
    ['matched', String(summary.matched)],
    summary.dryRun ? ['would append', String(summary.wouldAppend)] : ['appended', String(summary.appended)],
    ['already replayed', String(summary.alreadyReplayed)],
    [
      'skipped',
      `${summary.skipped} (done, or dispatched elsewhere now: never paid again without --pay-again-for)`,
    ],
  ];
  if (summary.contentWithheld > 0)
    facts.push(['sending nothing', `${summary.contentWithheld} (user content erased or expired)`]);
  facts.push(...unfinishedFacts(summary, 'not replayed'));
  return renderBatchSummary(
    facts,
    ['jobId', 'action', 'record', 'dispatchId'],
    summary.jobs.map((job) => [
      job.jobId,
      ACTION_TEXT[job.action] +
        (job.skipped ? `: ${SKIP_TEXT[job.skipped]}${currentText(job)}` : '') +
        (job.paidAgain ? `, paid again: it was ${job.paidAgain}` : '') +
        (job.error ? ` (${job.error})` : '') +
        (job.contentWithheld ? `, sends nothing: ${job.contentWithheld.replace('_', ' ')}` : ''),
      versionCell(job.version),
      orDash(job.dispatchId),
    ]),
  );
}

const ACTION_TEXT: Record<JobReplay['action'], string> = {
  appended: 'appended',
  would_append: 'would append',
  already_replayed: 'already replayed',
  skipped: 'skipped',
  no_decision: 'not replayed: no decision in its stream',
  contended: 'not replayed: lost every append race',
  failed: 'not replayed: failed',
};

const SKIP_TEXT: Record<NonNullable<JobReplay['skipped']>, string> = {
  completed: 'done, completed at a provider',
  failed: 'done, failed terminally',
  rejected: 'done, rejected',
  dispatched_elsewhere: 'its current dispatch is at another provider',
  held: 'held: its re-routing waits for a slot, the hold dispatches it',
};

const currentText = (job: JobReplay): string =>
  job.current
    ? ` (current v${job.current.version}${job.current.provider ? ` at ${job.current.provider}` : ''})`
    : '';
