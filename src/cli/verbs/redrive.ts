/**
 * `routing-manager redrive --incident KEY --since T [--until T] [--provider P…] --why TEXT [--dry-run]`:
 * after a stream batch was given up to the on-failure destination (or outlived the stream's 24 h
 * retention), finish the projection of every record in the window whose effects are not all
 * complete — with its ORIGINAL ids. Parsing and printing only: the logic is the RedriveProjections
 * command (src/commands/redrive-projections.ts); what is owed and when is src/commands/redrive-plan.ts.
 */
import type { Command } from 'commander';
import {
  type RedriveProgress,
  type RedriveSummary,
  redriveProjections,
  type TargetRedrive,
} from '../../commands/redrive-projections.ts';
import { EXIT_RUNTIME } from '../../exit-codes.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { type IncidentOptions, incidentOptions, incidentRequest, windowJobPorts } from '../batch-runs.ts';
import { incidentFacts, renderBatchSummary, unfinishedFacts, versionCell } from '../batch-summary.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { DEFAULT_MARKER_TTL_DAYS } from '../cli-ports.ts';
import { collect, windowOptions } from '../options.ts';
import { jsonLine, orDash } from '../output.ts';
import { jobProgressBar } from '../progress-bar.ts';
import { checkNames, publishedTables, vocabularyOf } from '../vocabulary.ts';

interface RedriveOptions extends IncidentOptions {
  provider?: string[];
  markerTtlDays: string;
}

const progressBar = (context: CliContext) =>
  jobProgressBar(
    context,
    'redrive [{bar}] {value}/{total} jobs | re-driven {redriven}',
    (progress: RedriveProgress) => ({ redriven: progress.redriven }),
  );

export function registerRedrive(program: Command, contextOf: (command: Command) => CliContext) {
  incidentOptions(
    windowOptions(
      program
        .command('redrive')
        .description(
          'finish the projection of records whose effects never completed (abandoned stream batches), ' +
            'with their original ids; idempotent per --incident',
        )
        .requiredOption('--incident <key>', 'the incident key (e.g. INC-2291): the re-drive identity')
        .option(
          '--provider <provider>',
          'providers whose decisions to examine (repeatable, or comma-separated; default: every audit partition — the providers of the bundled and published tables, auto and none)',
          collect,
        ),
    ).option(
      '--marker-ttl-days <days>',
      "the projector's EFFECT_MARKER_TTL_DAYS: older records without a marker are not judged",
      String(DEFAULT_MARKER_TTL_DAYS),
    ),
    {
      what: 're-drive',
      payAgain:
        'COSTS MONEY: re-drive the dispatch of these jobs although they are done (completed, failed or ' +
        'rejected); the provider is paid again (repeatable, or comma-separated)',
      dryRun:
        'report exactly what would be appended, with its ids, and what is skipped and why; change nothing',
    },
  ).action(async (options: RedriveOptions, command: Command) => {
    const context = contextOf(command);
    const request = incidentRequest(context, options, 're-drive');
    const markerTtlDays = Number(options.markerTtlDays);
    // The projector's EFFECT_MARKER_TTL_DAYS range (src/config/projector-config.ts).
    if (!Number.isInteger(markerTtlDays) || markerTtlDays < 2 || markerTtlDays > 365)
      throw new UsageError(
        "--marker-ttl-days must be an integer from 2 to 365 (the stack's EffectMarkerTtlDays)",
      );
    if (options.provider) await checkNames(context, { providers: options.provider });
    const providers =
      options.provider ?? vocabularyOf([defaultRoutingTable, ...(await publishedTables(context))]).providers;
    const summary = await context.onTable(context.tables.log, () =>
      redriveProjections(
        {
          type: 'RedriveProjections',
          data: { ...request, providers, markerTtlDays },
        },
        {
          ...windowJobPorts(context),
          // A record's Jobs item is its completion mark when it holds the version (effect-completion.ts).
          markers: context.ports().completion,
          ...progressBar(context),
        },
      ),
    );
    context.out(context.json ? jsonLine(summary) : renderRedriveSummary(summary));
    if (summary.failed > 0) context.exitCode = EXIT_RUNTIME;
  });
}

export function renderRedriveSummary(summary: RedriveSummary): string {
  const facts: [string, string][] = [
    ...incidentFacts(
      summary,
      { label: 'redrive', id: summary.redriveId },
      `filed under ${summary.providers.join(', ')}`,
    ),
    ['jobs examined', String(summary.matched)],
    ['complete', String(summary.complete)],
    summary.dryRun
      ? ['would re-drive', String(summary.wouldAppend)]
      : ['re-driven', String(summary.appended)],
    ['already requested', String(summary.alreadyRequested)],
  ];
  if (summary.skipped > 0)
    facts.push([
      'skipped',
      `${summary.skipped} (done or superseded: never paid again without --pay-again-for)`,
    ]);
  if (summary.tooOld > 0) facts.push(['too old to judge', `${summary.tooOld} (older than the marker TTL)`]);
  facts.push(...unfinishedFacts(summary, 'not re-driven'));
  return renderBatchSummary(
    facts,
    ['jobId', 'record', 'action', 'missing', 're-drive', 'dispatchId'],
    summary.targets.map((target) => [
      target.jobId,
      versionCell(target.targetVersion),
      ACTION_TEXT[target.action] +
        (target.skipped ? `: ${SKIP_TEXT[target.skipped]}` : '') +
        (target.error ? ` (${target.error})` : ''),
      target.missing.length > 0 ? target.missing.join('+') : '-',
      versionCell(target.redriveVersion),
      orDash(target.dispatchId),
    ]),
  );
}

const ACTION_TEXT: Record<TargetRedrive['action'], string> = {
  appended: 're-driven',
  would_append: 'would re-drive',
  already_requested: 'already requested (this incident)',
  complete: 'complete',
  too_old: 'not judged: older than the marker TTL',
  skipped: 'skipped',
  contended: 'not re-driven: lost every append race',
  failed: 'not re-driven: failed',
};

const SKIP_TEXT: Record<NonNullable<TargetRedrive['skipped']>, string> = {
  completed: 'the job is done, completed at a provider',
  failed: 'the job is done, failed terminally',
  rejected: 'the job is done, rejected',
  superseded: 'a newer dispatch of the job superseded it',
};
