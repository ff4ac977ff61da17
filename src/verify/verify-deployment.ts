/**
 * `npm run verify`: the seed's Definition of Done against a deployed stack, as one command.
 * Publishes a sample `video.job.submitted` on the stack's bus and waits, each with a deadline, for
 * the `video.job.routed` event, the same event in the stack's CloudWatch log group of routing events
 * (the template's RoutingEventsRule), the `Jobs-<Stage>` row and a fresh heartbeat datapoint.
 *
 * Observing the routed event needs a subscriber: the command creates a temporary EventBridge rule
 * (matching only this run's jobId) with a temporary SQS queue as target, and deletes both when it
 * ends, whatever the outcome. Nothing is added to the template, so `verify` works on any stage. A
 * newly created rule takes effect after a short, unspecified delay: the command first publishes
 * probe events (source `routing-manager.verify`, nobody else's) until one arrives, and only then
 * the submission, so a slow rule cannot make the check miss the routed event.
 *
 * Resource names come from the stack's outputs (DescribeStacks) unless given explicitly, which is
 * how the emulator test runs it. Only ids and facts are printed, never the job's content.
 */

import { readFileSync } from 'node:fs';
import {
  type CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  type Output,
} from '@aws-sdk/client-cloudformation';
import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteRuleCommand,
  type EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { HEARTBEAT_METRIC_NAME, HEARTBEAT_NAMESPACE } from '../config/heartbeat-config.ts';
import { RoutingManagerError } from '../errors.ts';
import { ANNOUNCEMENT_SOURCE, REJECTED_DETAIL_TYPE, ROUTED_DETAIL_TYPE } from '../projections/effects.ts';

export interface VerifyClients {
  readonly cloudformation: CloudFormationClient;
  readonly events: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly documents: DynamoDBDocumentClient;
  readonly cloudwatch: CloudWatchClient;
  readonly logs: CloudWatchLogsClient;
}

export interface VerifyOptions {
  readonly stage: string;
  /** Default `routing-manager-<stage>` (samconfig.toml's stack names). */
  readonly stackName?: string;
  /** Given both, the stack is not read (e.g. emulators, which run no SAM stack). */
  readonly eventBusName?: string;
  readonly jobsTable?: string;
  /** The log group of routing events (default: the stack output RoutingEventsLogGroupName). */
  readonly routingEventsLogGroup?: string;
  /** Publish even when the provider queues are the platform's (a real consumer will get the job). */
  readonly allowSharedQueues?: boolean;
  /** Deadline of the whole run; the heartbeat may need one 5-minute tick. Default 7 minutes. */
  readonly timeoutMs?: number;
  /** A heartbeat datapoint counts as fresh within this age (the HeartbeatMissing window). */
  readonly heartbeatMaxAgeMs?: number;
  /** Pause between two reads of the Jobs row or the heartbeat metric. */
  readonly pollIntervalMs?: number;
}

export interface VerifyEnvironment {
  readonly clients: VerifyClients;
  readonly now: () => number;
  readonly pause: (ms: number) => Promise<void>;
  /** A fresh id per run: the sample's jobId, and the name of the temporary rule and queue. */
  readonly newId: () => string;
  /** Called as each check completes, so progress is printed while waiting. */
  readonly report?: (check: CheckResult) => void;
}

export type CheckName =
  | 'stack'
  | 'capture'
  | 'submitted'
  | 'routed'
  | 'logged'
  | 'jobs'
  | 'heartbeat'
  | 'cleanup';

export interface CheckResult {
  readonly name: CheckName;
  readonly ok: boolean;
  /** Facts only: names, ids, providers, timings. */
  readonly detail: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly jobId: string;
  readonly checks: readonly CheckResult[];
}

/** The stack does not exist, or lacks what verify needs: nothing was published. */
export class StackNotReadyError extends RoutingManagerError {
  constructor(message: string, options?: ErrorOptions) {
    super('stack_not_ready', message, options);
    this.name = 'StackNotReadyError';
  }
}

/** Publishing would hand a sample job to the platform's real provider consumers. */
export class SharedQueuesError extends RoutingManagerError {
  constructor(stackName: string) {
    super(
      'shared_queues',
      `${stackName} routes to provider queues it does not own: the sample job would reach their consumers. ` +
        'Verify a stage whose stack created its queues (dev), or pass --allow-shared-queues.',
    );
    this.name = 'SharedQueuesError';
  }
}

const DEFAULT_TIMEOUT_MS = 7 * 60_000;
const DEFAULT_HEARTBEAT_MAX_AGE_MS = 10 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 5_000;
/** Long-poll cap per ReceiveMessage (SQS allows 20 s). */
const MAX_RECEIVE_WAIT_SECONDS = 10;
const PROBE_SOURCE = 'routing-manager.verify';
const PROBE_DETAIL_TYPE = 'verify.probe';
const SAMPLE = new URL('../../events/submitted-fal.json', import.meta.url);

interface Target {
  readonly stackName: string;
  readonly eventBusName: string;
  readonly jobsTable: string;
  /** Null when resources were given explicitly without one: the check is not run. */
  readonly routingEventsLogGroup: string | null;
}

export async function verifyDeployment(
  options: VerifyOptions,
  environment: VerifyEnvironment,
): Promise<VerifyResult> {
  const { clients, now } = environment;
  const deadline = now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const checks: CheckResult[] = [];
  const record = (check: CheckResult) => {
    checks.push(check);
    environment.report?.(check);
    return check;
  };

  const target = await resolveTarget(options, clients.cloudformation);
  record({
    name: 'stack',
    ok: true,
    detail: `${target.stackName}: bus ${target.eventBusName}, Jobs table ${target.jobsTable}`,
  });

  const runId = environment.newId();
  const jobId = runId;
  const capture = await createCapture(clients, target.eventBusName, options.stage, runId);
  try {
    const waiter = new CaptureReader(clients.sqs, capture.queueUrl, environment, deadline);
    const started = now();
    const live = await waiter.probe(() => publishProbe(clients.events, target.eventBusName, jobId));
    record({
      name: 'capture',
      ok: live,
      detail: live
        ? `temporary rule ${capture.ruleName} delivers (${seconds(now() - started)})`
        : `temporary rule ${capture.ruleName} delivered no probe before the deadline`,
    });
    if (!live) return { ok: false, jobId, checks };

    const published = now();
    record(await publishSubmission(clients.events, target.eventBusName, jobId));
    const outcome = await waiter.outcome(jobId);
    record(routedCheck(outcome, now() - published));
    if (target.routingEventsLogGroup !== null)
      record(
        await loggedCheck(
          clients.logs,
          target.routingEventsLogGroup,
          jobId,
          published,
          options,
          environment,
          deadline,
        ),
      );
    record(await jobsCheck(clients.documents, target.jobsTable, jobId, options, environment, deadline));
    record(await heartbeatCheck(clients.cloudwatch, options, environment, deadline));
  } finally {
    record(await deleteCapture(clients, target.eventBusName, capture));
  }
  return { ok: checks.every((check) => check.ok), jobId, checks };
}

// ------------------------------------------------------------------ the stack
async function resolveTarget(options: VerifyOptions, cloudformation: CloudFormationClient): Promise<Target> {
  const stackName = options.stackName ?? `routing-manager-${options.stage}`;
  if (options.eventBusName !== undefined && options.jobsTable !== undefined) {
    return {
      stackName,
      eventBusName: options.eventBusName,
      jobsTable: options.jobsTable,
      routingEventsLogGroup: options.routingEventsLogGroup ?? null,
    };
  }
  let outputs: Output[];
  try {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Stacks[0]?.Outputs ?? [];
  } catch (error) {
    // DescribeStacks answers an unknown stack with ValidationError, an error code the SDK has no
    // class for (it is not in CloudFormation's model): its code, as the SDK reports it, is the name.
    if (error instanceof CloudFormationServiceException && error.name === 'ValidationError') {
      throw new StackNotReadyError(`stack ${stackName} not found; deploy it first (npm run deploy)`, {
        cause: error,
      });
    }
    throw error;
  }
  const output = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const eventBusName = options.eventBusName ?? output('EventBusName');
  const jobsTable = options.jobsTable ?? output('JobsTableName');
  const routingEventsLogGroup = options.routingEventsLogGroup ?? output('RoutingEventsLogGroupName');
  if (eventBusName === undefined || jobsTable === undefined || routingEventsLogGroup === undefined) {
    throw new StackNotReadyError(
      `stack ${stackName} has no EventBusName/JobsTableName/RoutingEventsLogGroupName outputs; re-deploy the current template`,
    );
  }
  if (output('ProviderQueuesCreatedByStack') !== 'true' && options.allowSharedQueues !== true) {
    throw new SharedQueuesError(stackName);
  }
  return { stackName, eventBusName, jobsTable, routingEventsLogGroup };
}

// ------------------------------------------------------------------ the temporary capture
interface Capture {
  readonly ruleName: string;
  readonly queueUrl: string;
}

async function createCapture(
  { sqs, events }: VerifyClients,
  eventBusName: string,
  stage: string,
  runId: string,
): Promise<Capture> {
  // Names from the run id: two runs never share a rule or a queue.
  const name = `routing-manager-verify-${stage}-${runId.replaceAll('-', '').slice(0, 12)}`;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const queueUrl = QueueUrl as string;
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn as string;
    const { RuleArn } = await events.send(
      new PutRuleCommand({
        Name: name,
        EventBusName: eventBusName,
        Description: 'Temporary: npm run verify captures its own routing outcome (deleted when it ends).',
        EventPattern: JSON.stringify({
          source: [ANNOUNCEMENT_SOURCE, PROBE_SOURCE],
          detail: { jobId: [runId] },
        }),
      }),
    );
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'VerifyRuleOnly',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': RuleArn } },
              },
            ],
          }),
        },
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: name,
        EventBusName: eventBusName,
        Targets: [{ Id: 'capture', Arn: queueArn }],
      }),
    );
  } catch (error) {
    await deleteCapture({ sqs, events } as VerifyClients, eventBusName, { ruleName: name, queueUrl });
    throw error;
  }
  return { ruleName: name, queueUrl };
}

async function deleteCapture(
  { sqs, events }: VerifyClients,
  eventBusName: string,
  capture: Capture,
): Promise<CheckResult> {
  const problems: string[] = [];
  const attempt = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      // A rule or queue that was never created is not a problem; anything else is reported.
      if (!(error instanceof ResourceNotFoundException || error instanceof QueueDoesNotExist))
        problems.push(`${what}: ${(error as Error).name}`);
    }
  };
  await attempt('targets', () =>
    events.send(
      new RemoveTargetsCommand({ Rule: capture.ruleName, EventBusName: eventBusName, Ids: ['capture'] }),
    ),
  );
  await attempt('rule', () =>
    events.send(new DeleteRuleCommand({ Name: capture.ruleName, EventBusName: eventBusName })),
  );
  await attempt('queue', () => sqs.send(new DeleteQueueCommand({ QueueUrl: capture.queueUrl })));
  return problems.length === 0
    ? { name: 'cleanup', ok: true, detail: `deleted temporary rule and queue ${capture.ruleName}` }
    : { name: 'cleanup', ok: false, detail: `delete ${capture.ruleName} by hand (${problems.join(', ')})` };
}

interface CapturedEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
}

type Outcome = { readonly event: CapturedEvent } | null;

/** Reads the temporary queue until what is awaited arrives or the deadline passes. */
class CaptureReader {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;
  readonly #environment: VerifyEnvironment;
  readonly #deadline: number;

  constructor(sqs: SQSClient, queueUrl: string, environment: VerifyEnvironment, deadline: number) {
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
    this.#environment = environment;
    this.#deadline = deadline;
  }

  /** Publishes a probe per receive round until one arrives: the rule is then in effect. */
  async probe(publish: () => Promise<void>): Promise<boolean> {
    while (this.#environment.now() < this.#deadline) {
      await publish();
      const events = await this.#receive();
      if (events.some((event) => event.source === PROBE_SOURCE)) return true;
    }
    return false;
  }

  /** The routed or rejected announcement of `jobId`; null at the deadline. */
  async outcome(jobId: string): Promise<Outcome> {
    while (this.#environment.now() < this.#deadline) {
      const found = (await this.#receive()).find(
        (event) =>
          event.detail.jobId === jobId &&
          (event['detail-type'] === ROUTED_DETAIL_TYPE || event['detail-type'] === REJECTED_DETAIL_TYPE),
      );
      if (found) return { event: found };
    }
    return null;
  }

  async #receive(): Promise<CapturedEvent[]> {
    const remainingSeconds = Math.floor((this.#deadline - this.#environment.now()) / 1000);
    const { Messages = [] } = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: Math.max(0, Math.min(MAX_RECEIVE_WAIT_SECONDS, remainingSeconds)),
      }),
    );
    if (Messages.length > 0) {
      await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
        }),
      );
    }
    return Messages.flatMap((message) => {
      try {
        return [JSON.parse(message.Body ?? '') as CapturedEvent];
      } catch {
        return []; // not an EventBridge event: nothing this run published
      }
    });
  }
}

// ------------------------------------------------------------------ publishing
async function publishProbe(events: EventBridgeClient, eventBusName: string, jobId: string) {
  await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: eventBusName,
          Source: PROBE_SOURCE,
          DetailType: PROBE_DETAIL_TYPE,
          Detail: JSON.stringify({ jobId }),
        },
      ],
    }),
  );
}

/** The fal sample of events/ (≤ 10 s, 720p, provider auto: routed to fal), with this run's jobId. */
export function sampleSubmission(jobId: string) {
  const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as {
    source: string;
    'detail-type': string;
    detail: Record<string, unknown>;
  };
  return { source: sample.source, detailType: sample['detail-type'], detail: { ...sample.detail, jobId } };
}

async function publishSubmission(
  events: EventBridgeClient,
  eventBusName: string,
  jobId: string,
): Promise<CheckResult> {
  const sample = sampleSubmission(jobId);
  const { FailedEntryCount = 0, Entries = [] } = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: eventBusName,
          Source: sample.source,
          DetailType: sample.detailType,
          Detail: JSON.stringify(sample.detail),
        },
      ],
    }),
  );
  return FailedEntryCount === 0
    ? { name: 'submitted', ok: true, detail: `${sample.detailType} for job ${jobId} on bus ${eventBusName}` }
    : {
        name: 'submitted',
        ok: false,
        detail: `PutEvents refused the sample: ${Entries[0]?.ErrorCode ?? 'unknown'}`,
      };
}

// ------------------------------------------------------------------ the checks
function routedCheck(outcome: Outcome, elapsedMs: number): CheckResult {
  if (outcome === null) {
    return {
      name: 'routed',
      ok: false,
      detail: 'no video.job.routed or video.job.rejected before the deadline',
    };
  }
  const { detail } = outcome.event;
  if (outcome.event['detail-type'] !== ROUTED_DETAIL_TYPE) {
    return { name: 'routed', ok: false, detail: `video.job.rejected, reason ${String(detail.reason)}` };
  }
  return {
    name: 'routed',
    ok: true,
    detail: `video.job.routed: ${String(detail.provider)} / ${String(detail.model)} / ${String(detail.queue)} (${seconds(elapsedMs)})`,
  };
}

/**
 * The sample's announcement in the stack's log group of routing.manager events: found by a quoted
 * filter on the job id (the events are content-free; the id is the run's own), from the publication on.
 */
async function loggedCheck(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  jobId: string,
  published: number,
  options: VerifyOptions,
  { now, pause }: VerifyEnvironment,
  deadline: number,
): Promise<CheckResult> {
  const started = now();
  for (;;) {
    const found = await loggedAnnouncement(logs, logGroupName, jobId, published);
    if (found) {
      return {
        name: 'logged',
        ok: found === ROUTED_DETAIL_TYPE,
        detail: `${found} of ${jobId} in ${logGroupName} (${seconds(now() - started)})`,
      };
    }
    if (now() >= deadline) break;
    await pause(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }
  return {
    name: 'logged',
    ok: false,
    detail: `no routing.manager event of ${jobId} in ${logGroupName} at the deadline`,
  };
}

/** The detail-type of the job's routed/rejected announcement in the log group, or null. */
async function loggedAnnouncement(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  jobId: string,
  published: number,
): Promise<string | null> {
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName,
        // A minute of clock skew between this machine and the service.
        startTime: published - 60_000,
        filterPattern: `"${jobId}"`,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const event of page.events ?? []) {
      const announced = announcementOf(event.message, jobId);
      if (announced) return announced;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return null;
}

function announcementOf(message: string | undefined, jobId: string): string | null {
  try {
    const event = JSON.parse(message ?? '') as {
      source?: string;
      'detail-type'?: string;
      detail?: { jobId?: string };
    };
    const type = event['detail-type'];
    const announced = type === ROUTED_DETAIL_TYPE || type === REJECTED_DETAIL_TYPE;
    return event.source === ANNOUNCEMENT_SOURCE && announced && event.detail?.jobId === jobId
      ? (type ?? null)
      : null;
  } catch {
    return null; // not an event of ours
  }
}

async function jobsCheck(
  documents: DynamoDBDocumentClient,
  tableName: string,
  jobId: string,
  options: VerifyOptions,
  { now, pause }: VerifyEnvironment,
  deadline: number,
): Promise<CheckResult> {
  let status: unknown;
  for (;;) {
    const { Item } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { jobId }, ConsistentRead: true }),
    );
    status = Item?.status;
    if (status === 'ROUTED') {
      return {
        name: 'jobs',
        ok: true,
        detail: `${tableName} row: status ROUTED, provider ${String(Item?.provider)}`,
      };
    }
    if (now() >= deadline) break;
    await pause(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }
  return {
    name: 'jobs',
    ok: false,
    detail: `${tableName} row ${status === undefined ? 'missing' : `has status ${String(status)}`} at the deadline`,
  };
}

async function heartbeatCheck(
  cloudwatch: CloudWatchClient,
  options: VerifyOptions,
  { now, pause }: VerifyEnvironment,
  deadline: number,
): Promise<CheckResult> {
  const maxAge = options.heartbeatMaxAgeMs ?? DEFAULT_HEARTBEAT_MAX_AGE_MS;
  for (;;) {
    const { MetricDataResults = [] } = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now() - maxAge),
        EndTime: new Date(now() + 60_000),
        MetricDataQueries: [
          {
            Id: 'heartbeat',
            MetricStat: {
              Metric: {
                Namespace: HEARTBEAT_NAMESPACE,
                MetricName: HEARTBEAT_METRIC_NAME,
                Dimensions: [{ Name: 'Stage', Value: options.stage }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    const beats = (MetricDataResults[0]?.Timestamps ?? []).filter(
      (_at, i) => (MetricDataResults[0]?.Values?.[i] ?? 0) > 0,
    );
    if (beats.length > 0) {
      const latest = Math.max(...beats.map((at) => at.getTime()));
      return {
        name: 'heartbeat',
        ok: true,
        detail: `${HEARTBEAT_NAMESPACE} ${HEARTBEAT_METRIC_NAME} Stage=${options.stage}: latest ${new Date(latest).toISOString()}`,
      };
    }
    if (now() >= deadline) break;
    await pause(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }
  return {
    name: 'heartbeat',
    ok: false,
    detail: `no ${HEARTBEAT_NAMESPACE} ${HEARTBEAT_METRIC_NAME} datapoint for Stage=${options.stage} within ${seconds(maxAge)}`,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
