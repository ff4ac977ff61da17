/**
 * `routing-manager projector [--since T] [--until T]`: how far the projector is behind and what it
 * gave up — the IteratorAge of its stream (maximum per minute; the ProjectorIteratorAge alarm's
 * metric) and the abandoned batches waiting in its on-failure queue (the ProjectorOnFailureNotEmpty
 * alarm's queue). What those batches left undone is `redrive --dry-run`'s answer
 * (docs/OPERATIONS.md). Read only.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { type AgePoint, iteratorAges, type QueueDepth, queueDepth } from '../../aws/projector-backlog.ts';
import { auditWindow } from '../../queries/audit-window.ts';
import type { CliContext } from '../cli-context.ts';
import { windowOptions } from '../options.ts';
import { jsonLine, renderFacts } from '../output.ts';

export interface ProjectorStatus {
  readonly function: string;
  readonly since: string;
  readonly until: string;
  /** The newest minute's maximum IteratorAge and the window's; null: no data point in the window. */
  readonly lag: { readonly latestMs: number; readonly latestAt: string; readonly maximumMs: number } | null;
  readonly ages: readonly AgePoint[];
  /** Abandoned batches waiting to be re-driven (null counts: the queue does not exist). */
  readonly abandoned: QueueDepth;
}

interface ProjectorOptions {
  since: string;
  until: string;
  function?: string;
  onFailureQueue?: string;
}

export function lagOf(ages: readonly AgePoint[]): ProjectorStatus['lag'] {
  const latest = ages.at(-1);
  if (!latest) return null;
  return {
    latestMs: latest.maximumMs,
    latestAt: latest.at,
    maximumMs: Math.max(...ages.map((a) => a.maximumMs)),
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function renderProjector(status: ProjectorStatus): string {
  const { abandoned, lag } = status;
  return renderFacts([
    ['projector', status.function],
    ['window', `[${status.since}, ${status.until})`],
    [
      'lag (IteratorAge)',
      lag
        ? `${seconds(lag.latestMs)} at ${lag.latestAt} (maximum ${seconds(lag.maximumMs)} in the window)`
        : 'no data point in the window (no stream batch processed, or not on AWS)',
    ],
    [
      'abandoned batches',
      abandoned.visible === null
        ? `queue ${abandoned.queue} not found`
        : `${abandoned.visible} waiting in ${abandoned.queue} (${abandoned.inFlight} being read)` +
          (abandoned.visible > 0
            ? ': `redrive --dry-run` over their window shows what they left undone'
            : ''),
    ],
  ]);
}

export function registerProjector(program: Command, contextOf: (command: Command) => CliContext) {
  windowOptions(
    program
      .command('projector')
      .description("the projector's lag (IteratorAge) and its abandoned batches (on-failure queue)"),
    '15m',
  )
    .option('--function <name>', 'the projector function (default: RoutingManager-Projector-<stage>)')
    .option(
      '--on-failure-queue <name>',
      "the projector's on-failure queue (default: RoutingProjector-OnFailure-<stage>)",
    )
    .option('--json', 'the status as one JSON object')
    .action(async (options: ProjectorOptions, command: Command) => {
      const context = contextOf(command);
      const window = auditWindow(options.since, options.until, context.now());
      const { stage } = context.tables;
      const functionName = options.function ?? `RoutingManager-Projector-${stage}`;
      const cloudwatch = context.client((config) => new CloudWatchClient(config));
      const sqs = context.client((config) => new SQSClient(config));
      const [ages, abandoned] = await Promise.all([
        iteratorAges(cloudwatch, functionName, {
          since: new Date(window.since),
          until: new Date(window.until),
        }),
        queueDepth(sqs, options.onFailureQueue ?? `RoutingProjector-OnFailure-${stage}`),
      ]);
      const status: ProjectorStatus = {
        function: functionName,
        since: window.since,
        until: window.until,
        lag: lagOf(ages),
        ages,
        abandoned,
      };
      context.out(context.json ? jsonLine(status) : renderProjector(status));
    });
}
