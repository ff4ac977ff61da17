/**
 * `npm run verify -- --stage dev`: command line of src/verify/verify-deployment.ts. Prints one line
 * per check as it completes. Exit codes as the operator CLI's: 0 every check passed · 1 a check
 * failed or AWS failed · 2 usage (or a stack whose queues are shared) · 3 stack not found.
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createDocumentClient, sdkClientDefaults } from '../aws/clients.ts';
import { STAGE_PATTERN } from '../config/load-config.ts';
import { EXIT_NOT_FOUND, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../exit-codes.ts';
import {
  type CheckResult,
  SharedQueuesError,
  StackNotReadyError,
  type VerifyClients,
  type VerifyOptions,
  verifyDeployment,
} from './verify-deployment.ts';

export interface VerifyIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface VerifyDependencies {
  readonly clients: (region: string) => VerifyClients;
  readonly now: () => number;
  readonly pause: (ms: number) => Promise<void>;
  readonly newId: () => string;
}

export const awsDependencies: VerifyDependencies = {
  clients: (region) => ({
    cloudformation: new CloudFormationClient({ ...sdkClientDefaults, region }),
    events: new EventBridgeClient({ ...sdkClientDefaults, region }),
    sqs: new SQSClient({ ...sdkClientDefaults, region }),
    documents: createDocumentClient({ region }),
    cloudwatch: new CloudWatchClient({ ...sdkClientDefaults, region }),
    logs: new CloudWatchLogsClient({ ...sdkClientDefaults, region }),
  }),
  now: () => Date.now(),
  pause: delay,
  newId: () => randomUUID(),
};

const positiveSeconds = (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('a positive number of seconds');
  return parsed;
};

const stageName = (value: string) => {
  if (!STAGE_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${STAGE_PATTERN.source}`);
  return value;
};

function program(io: VerifyIo) {
  return new Command('verify')
    .description(
      'Publishes a sample video.job.submitted to the deployed stack and waits for video.job.routed, the same event in the stack log group of routing events, the Jobs row and a fresh heartbeat.',
    )
    .requiredOption('--stage <stage>', 'stage of the deployed stack', stageName)
    .option('--stack-name <name>', 'stack to read the outputs of (default routing-manager-<stage>)')
    .option('--region <region>', 'AWS region (default AWS_REGION, else us-east-1 as samconfig.toml)')
    .option('--event-bus <name>', 'bus to publish on (default: the stack output EventBusName)')
    .option('--jobs-table <name>', 'Jobs table to read (default: the stack output JobsTableName)')
    .option(
      '--events-log-group <name>',
      'log group of routing events to read (default: the stack output RoutingEventsLogGroupName; with --event-bus and --jobs-table and without it, not checked)',
    )
    .option('--timeout <seconds>', 'deadline of the whole run', positiveSeconds, 420)
    .option('--allow-shared-queues', "publish even if the provider queues are the platform's")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
}

const line = (check: CheckResult) => `${check.ok ? '✔' : '✘'} ${check.name.padEnd(9)} ${check.detail}\n`;

export async function runVerify(
  argv: readonly string[],
  io: VerifyIo,
  dependencies: VerifyDependencies = awsDependencies,
): Promise<number> {
  const command = program(io);
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw error;
  }
  const flags = command.opts<{
    stage: string;
    stackName?: string;
    region?: string;
    eventBus?: string;
    jobsTable?: string;
    eventsLogGroup?: string;
    timeout: number;
    allowSharedQueues?: boolean;
  }>();
  const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const options: VerifyOptions = {
    stage: flags.stage,
    timeoutMs: flags.timeout * 1000,
    ...(flags.stackName ? { stackName: flags.stackName } : {}),
    ...(flags.eventBus ? { eventBusName: flags.eventBus } : {}),
    ...(flags.jobsTable ? { jobsTable: flags.jobsTable } : {}),
    ...(flags.eventsLogGroup ? { routingEventsLogGroup: flags.eventsLogGroup } : {}),
    ...(flags.allowSharedQueues ? { allowSharedQueues: true } : {}),
  };
  const clients = dependencies.clients(region);
  try {
    io.stdout.write(`verifying stage ${flags.stage} in ${region} (deadline ${flags.timeout} s)\n`);
    const result = await verifyDeployment(options, {
      clients,
      now: dependencies.now,
      pause: dependencies.pause,
      newId: dependencies.newId,
      report: (check) => io.stdout.write(line(check)),
    });
    io.stdout.write(
      result.ok
        ? `Definition of Done met: job ${result.jobId} routed${result.checks.some((c) => c.name === 'logged') ? ', in CloudWatch Logs' : ''}, recorded in Jobs, heartbeat fresh\n`
        : `Definition of Done NOT met (job ${result.jobId}): see the ✘ lines above and docs/OPERATIONS.md\n`,
    );
    return result.ok ? EXIT_OK : EXIT_RUNTIME;
  } catch (error) {
    io.stderr.write(`verify: ${(error as Error).message}\n`);
    if (error instanceof StackNotReadyError) return EXIT_NOT_FOUND;
    if (error instanceof SharedQueuesError) return EXIT_USAGE;
    return EXIT_RUNTIME;
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}
