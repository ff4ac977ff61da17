/**
 * `routing-manager replay --provider P --since T --until T [--dry-run] [--why TEXT] [--by WHO]`:
 * after a provider outage, re-drive the projections of the decisions routed to P in the window.
 *
 * Per job: read its stream; if it already holds this replay (same replayId) skip it; otherwise
 * append a `ProjectionReplayRequested` record at the next version, conditionally — if another
 * writer took that version first (a concurrent identical replay), re-read and decide again. The
 * projector then dispatches the copied decision under the new version's dispatch id.
 */
import { userInfo } from 'node:os';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { auditWindow } from '../../audit/audit-window.ts';
import { OUTCOME_FILTERS, type OutcomeFilter } from '../../audit/decision-filter.ts';
import { isReplayed, planReplayStep, type ReplayRequest, replayIdOf } from '../../audit/replay-plan.ts';
import { DynamoDbAuditIndex } from '../../aws/dynamodb-audit-index.ts';
import { DynamoDbRoutingLog } from '../../aws/dynamodb-routing-log.ts';
import type { RoutingLog } from '../../log/routing-log.ts';
import type { DecisionRecord } from '../../log/routing-records.ts';
import { type CliContext, EXIT_RUNTIME, UsageError } from '../cli-context.ts';
import { jsonLine, renderFacts } from '../output.ts';
import { windowOptions } from './decisions.ts';

/** Appends lost to a concurrent writer before giving up on a job (each loss re-reads the stream). */
export const MAX_APPEND_ATTEMPTS = 5;
/** Jobs replayed at once. */
const CONCURRENCY = 8;

export type JobReplayAction = 'appended' | 'already_replayed' | 'would_append' | 'no_decision' | 'contended';

export interface JobReplay {
  readonly jobId: string;
  readonly action: JobReplayAction;
  readonly version: number | null;
}

export interface ReplaySummary {
  readonly replayId: string;
  readonly provider: string;
  readonly since: string;
  readonly until: string;
  readonly outcome: OutcomeFilter;
  readonly dryRun: boolean;
  readonly matched: number;
  readonly appended: number;
  readonly alreadyReplayed: number;
  readonly wouldAppend: number;
  readonly failed: number;
  readonly jobs: readonly JobReplay[];
}

export async function replayJob(
  log: RoutingLog,
  decision: DecisionRecord,
  replayId: string,
  author: { requestedBy: string; why: string; at: string },
  dryRun: boolean,
): Promise<JobReplay> {
  const jobId = decision.jobId as string;
  for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
    const step = planReplayStep(await log.readStream(decision.stream), replayId, author);
    if (step.action === 'already_replayed')
      return { jobId, action: 'already_replayed', version: step.version };
    if (step.action === 'no_decision') return { jobId, action: 'no_decision', version: null };
    if (dryRun) return { jobId, action: 'would_append', version: step.record.version };
    const appended = await log.append(step.record);
    if (appended.status === 'appended') return { jobId, action: 'appended', version: step.record.version };
  }
  return { jobId, action: 'contended', version: null };
}

interface ReplayOptions {
  provider: string;
  since: string;
  until: string;
  outcome: OutcomeFilter;
  dryRun?: boolean;
  why?: string;
  by?: string;
  json?: boolean;
}

function progressBar(context: CliContext) {
  if (!context.io.stderr.isTTY) return null;
  return new SingleBar({
    stream: context.io.stderr as NodeJS.WritableStream,
    format: 'replay [{bar}] {value}/{total} jobs | appended {appended} | already replayed {already}',
    hideCursor: true,
  });
}

export function registerReplay(program: Command, contextOf: (command: Command) => CliContext) {
  windowOptions(
    program
      .command('replay')
      .description(
        're-drive the projections of the decisions routed to a provider in a window (after an outage)',
      )
      .requiredOption('--provider <provider>', 'the provider whose dispatches were lost'),
  )
    .addOption(
      new Option('--outcome <outcome>', 'which decisions to re-project')
        .choices(OUTCOME_FILTERS)
        .default('routed'),
    )
    .option('--dry-run', 'count what would be appended; change nothing')
    .option('--why <text>', 'why (recorded in every replay record; required unless --dry-run)')
    .option('--by <who>', 'who asks (recorded; default: the OS user)')
    .option('--json', 'the summary as one JSON object')
    .action(async (options: ReplayOptions, command: Command) => {
      const context = contextOf(command);
      const dryRun = options.dryRun === true;
      if (!dryRun && !options.why?.trim())
        throw new UsageError('--why is required (it is recorded with the replay)');
      const window = auditWindow(options.since, options.until, context.now());
      const request: ReplayRequest = { provider: options.provider, window, outcome: options.outcome };
      const replayId = replayIdOf(request);
      const author = {
        requestedBy: options.by ?? context.io.env.USER ?? safeUserName(),
        why: options.why?.trim() ?? '',
        at: context.now().toISOString(),
      };
      const logTable = context.tables.log;
      const log = new DynamoDbRoutingLog(context.documents, logTable);
      const index = new DynamoDbAuditIndex(context.documents, logTable);

      const matched: DecisionRecord[] = [];
      await context.onTable(logTable, async () => {
        for await (const decision of index.decisions([options.provider], window)) {
          if (isReplayed(decision, request)) matched.push(decision);
        }
      });

      const bar = progressBar(context);
      const counts = { appended: 0, already: 0 };
      bar?.start(matched.length, 0, counts);
      const jobs: JobReplay[] = new Array(matched.length);
      let next = 0;
      const worker = async () => {
        while (next < matched.length) {
          const i = next++;
          const job = await context.onTable(logTable, () =>
            replayJob(log, matched[i] as DecisionRecord, replayId, author, dryRun),
          );
          jobs[i] = job;
          if (job.action === 'appended') counts.appended++;
          if (job.action === 'already_replayed') counts.already++;
          bar?.increment(1, counts);
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(CONCURRENCY, matched.length) }, worker));
      } finally {
        bar?.stop();
      }

      const count = (action: JobReplayAction) => jobs.filter((job) => job.action === action).length;
      const summary: ReplaySummary = {
        replayId,
        provider: options.provider,
        since: window.since,
        until: window.until,
        outcome: options.outcome,
        dryRun,
        matched: matched.length,
        appended: count('appended'),
        alreadyReplayed: count('already_replayed'),
        wouldAppend: count('would_append'),
        failed: count('contended') + count('no_decision'),
        jobs,
      };
      context.out(options.json ? jsonLine(summary) : renderSummary(summary));
      if (summary.failed > 0) context.exitCode = EXIT_RUNTIME;
    });
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function renderSummary(summary: ReplaySummary): string {
  return renderFacts([
    ['replay', `${summary.replayId}${summary.dryRun ? ' (dry run: nothing changed)' : ''}`],
    ['decisions', `${summary.outcome} to ${summary.provider} in [${summary.since}, ${summary.until})`],
    ['matched', String(summary.matched)],
    [
      summary.dryRun ? 'would append' : 'appended',
      String(summary.dryRun ? summary.wouldAppend : summary.appended),
    ],
    ['already replayed', String(summary.alreadyReplayed)],
    ...(summary.failed > 0 ? [['not replayed', String(summary.failed)] as const] : []),
  ]);
}
