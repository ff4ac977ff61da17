/**
 * The reference consumer (examples/reference-consumer), written from docs/CONSUMERS.md, against the
 * live local stack: so the guide cannot drift from the product. It checks what a provider team
 * bets money on — the first receive after start-up counts 1, a completed job is never replayed,
 * a re-routed dispatch received before the Jobs write lands is run (never dropped), a superseded
 * copy is never run, and a re-route moves the Jobs item past the old dispatch's status while the
 * new consumer's status stays.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type ConsumerClients,
  type ConsumerSettings,
  consumerClients,
  handleMessage,
  type RunResult,
} from '../../examples/reference-consumer/consumer.ts';
import { DynamoDbAuditIndex } from '../../src/aws/dynamodb-audit-index.ts';
import { DynamoDbJobsTable } from '../../src/aws/dynamodb-jobs-table.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { asSubmittedEvent } from '../../src/cli/submitted-events.ts';
import { replayProjections } from '../../src/commands/replay-projections.ts';
import { type LocalRun, runLocal } from '../../src/local/run-local.ts';
import type { RoutingRevisedRecord } from '../../src/log/routing-records.ts';
import type { PlannedJobStatus } from '../../src/ports/jobs-table.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

const execFileAsync = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let run: LocalRun;
let clients: ConsumerClients;
const reports: string[] = [];
const first = aSubmissionDetail({ lengthSec: 8, resolution: '720p', provider: 'auto' });

async function aLedger(name: string): Promise<string> {
  const dynamodb = new DynamoDBClient({});
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return name;
  } finally {
    dynamodb.destroy();
  }
}

function settingsFor(queueUrl: string, ledgerTable: string, outcome: RunResult): ConsumerSettings {
  return {
    queueUrl,
    ledgerTable,
    jobsTable: run.stack.tables.jobs,
    eventBusName: run.stack.eventBusName,
    maxAttempts: 1,
    run: async () => outcome,
  };
}

/** Receives the queue until the message of this job (and version) shows; others are left alone. */
async function receiveFor(queueUrl: string, jobId: string, routingVersion?: number): Promise<Message> {
  const sqs = new SQSClient({});
  try {
    return await eventually(
      async () => {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        return Messages.find((message) => {
          const body = JSON.parse(message.Body ?? '{}') as { jobId?: string; routingVersion?: number };
          return (
            body.jobId === jobId && (routingVersion === undefined || body.routingVersion === routingVersion)
          );
        });
      },
      { what: `the message of ${jobId} on ${queueUrl}`, timeoutMs: 20_000 },
    );
  } finally {
    sqs.destroy();
  }
}

async function send(queueUrl: string, body: string): Promise<void> {
  const sqs = new SQSClient({});
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  } finally {
    sqs.destroy();
  }
}

const documents = () => DynamoDBDocumentClient.from(new DynamoDBClient({}));
const jobItem = async (jobId: string) =>
  (
    await documents().send(
      new GetCommand({ TableName: run.stack.tables.jobs, Key: { jobId }, ConsistentRead: true }),
    )
  ).Item;
const logOf = () => new DynamoDbRoutingLog(documents(), run.stack.tables.routingLog);

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  run = await runLocal({
    inputs: [
      { origin: 'first', event: asSubmittedEvent(first, { newId: randomUUID, now: () => new Date() }) },
    ],
    stage: uniqueStage('c'),
    emulators: inject('emulatorEndpoints'),
    live: { report: (line) => reports.push(line), waitSeconds: 1 },
  });
  clients = consumerClients();
});
afterAll(async () => {
  clients?.destroy();
  await run?.stop();
});

describe('the reference consumer on the live local stack', () => {
  it('given a job routed at start-up, when the fal consumer receives it, then it is its first receive, it runs once, and a later fal replay skips the completed job', async () => {
    const ledger = await aLedger(`FalLedger-${run.stack.stage}`);
    const fal = settingsFor(run.stack.queues.fal, ledger, { outcome: 'succeeded' });
    const message = await receiveFor(run.stack.queues.fal, first.jobId as string);
    // The start-up read-back never received the provider queues.
    expect(message.Attributes?.ApproximateReceiveCount).toBe('1');

    expect(await handleMessage(message, fal, clients)).toEqual({
      dispatchId: `${first.jobId}:v1`,
      action: 'ran',
      outcome: 'succeeded',
    });
    await eventually(
      async () =>
        (await logOf().readStream(`job#${first.jobId}`)).some((r) => r.type === 'DispatchOutcomeRecorded'),
      { what: 'the success recorded in the job stream' },
    );
    expect(await jobItem(first.jobId as string)).toMatchObject({
      status: 'SUCCEEDED',
      statusVersion: 1,
      routingVersion: 1,
    });

    const replay = await replayProjections(
      {
        type: 'ReplayProjections',
        data: {
          incident: 'DRILL-PAID',
          providers: ['fal'],
          searchProviders: ['fal', 'replicate'],
          outcome: 'routed',
          window: { since: new Date(Date.now() - 3_600_000).toISOString(), until: new Date().toISOString() },
          why: 'drill',
          requestedBy: 'e2e',
          dryRun: false,
        },
      },
      {
        log: logOf(),
        decisions: new DynamoDbAuditIndex(documents(), run.stack.tables.routingLog),
        now: () => new Date(),
      },
    );
    expect(replay.jobs.find((job) => job.jobId === first.jobId)).toMatchObject({
      action: 'skipped',
      skipped: 'completed',
    });
    expect(replay.appended).toBe(0);
  });

  it('given a provider-side failure at fal, when Replicate’s consumer receives v2 before the Jobs write lands, then it runs it; copies of v1 are dropped; the Jobs item ends at v2 with its status', async () => {
    const falLedger = `FalLedger-${run.stack.stage}`;
    const replicateLedger = await aLedger(`ReplicateLedger-${run.stack.stage}`);
    const detail = aSubmissionDetail({ lengthSec: 8, resolution: '720p', provider: 'auto' });
    const jobId = detail.jobId as string;
    const events = new EventBridgeClient({});
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: run.stack.eventBusName,
            Source: 'frontend.api',
            DetailType: 'video.job.submitted',
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    events.destroy();

    // fal fails it for a provider-side reason: the job is re-routed to Replicate as v2.
    const v1 = await receiveFor(run.stack.queues.fal, jobId);
    const failing = settingsFor(run.stack.queues.fal, falLedger, {
      outcome: 'failed_terminal',
      errorClass: 'server_error',
    });
    expect(await handleMessage(v1, failing, clients)).toMatchObject({
      action: 'ran',
      outcome: 'failed_terminal',
    });
    const v2 = await receiveFor(run.stack.queues.replicate, jobId, 2);
    expect(JSON.parse(v2.Body ?? '{}')).toMatchObject({
      dispatchKind: 'reroute',
      revision: 1,
      previousDispatchId: `${jobId}:v1`,
      routingVersion: 2,
      provider: 'replicate',
    });
    // The re-route moved the item although fal's consumer had written its status for v1.
    const moved = await eventually(
      async () => {
        const item = await jobItem(jobId);
        return item?.routingVersion === 2 ? item : undefined;
      },
      { what: 'the Jobs item at v2' },
    );
    expect(moved).toMatchObject({ provider: 'replicate', status: 'ROUTED', statusVersion: 1 });

    // The race: Replicate's consumer receives v2 while the Jobs item still says v1 (fal's FAILED).
    const behind = {
      ...moved,
      routingVersion: 1,
      provider: 'fal',
      model: 'wan-i2v',
      queue: 'FalJobQueue',
      status: 'FAILED',
      statusVersion: 1,
    };
    await documents().send(new PutCommand({ TableName: run.stack.tables.jobs, Item: behind }));
    const replicate = settingsFor(run.stack.queues.replicate, replicateLedger, { outcome: 'succeeded' });
    expect(await handleMessage(v2, replicate, clients)).toEqual({
      dispatchId: `${jobId}:v2`,
      action: 'ran',
      outcome: 'succeeded',
    });

    // Then the projector's Jobs write of v2 lands: routing moves, the consumer's SUCCEEDED of v2 stays.
    const revision = (await logOf().readStream(`job#${jobId}`)).find(
      (record): record is RoutingRevisedRecord => record.type === 'RoutingRevised',
    ) as RoutingRevisedRecord;
    const jobs = new DynamoDbJobsTable(documents(), run.stack.tables.jobs);
    const status = planEffects(revision).jobStatus as PlannedJobStatus;
    expect(await jobs.write([status], await jobs.read([jobId]))).toEqual([{ ok: true, outcome: 'applied' }]);
    expect(await jobItem(jobId)).toMatchObject({
      routingVersion: 2,
      provider: 'replicate',
      status: 'SUCCEEDED',
      statusVersion: 2,
    });

    // A late copy of v1 reaches either consumer: fal's is a duplicate, Replicate's is stale. Neither runs.
    await send(run.stack.queues.fal, v1.Body as string);
    expect(await handleMessage(await receiveFor(run.stack.queues.fal, jobId), failing, clients)).toEqual({
      dispatchId: `${jobId}:v1`,
      action: 'duplicate',
    });
    await send(run.stack.queues.replicate, v1.Body as string);
    expect(
      await handleMessage(await receiveFor(run.stack.queues.replicate, jobId, 1), replicate, clients),
    ).toEqual({
      dispatchId: `${jobId}:v1`,
      action: 'stale',
    });
  });

  it('given the command docs/CONSUMERS.md shows, when run against the live stack, then it handles the queued job and prints what it did', async () => {
    const detail = aSubmissionDetail({ lengthSec: 5, resolution: '720p', provider: 'replicate' });
    const events = new EventBridgeClient({});
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: run.stack.eventBusName,
            Source: 'frontend.api',
            DetailType: 'video.job.submitted',
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    events.destroy();
    await eventually(async () => jobItem(detail.jobId as string), { what: 'the job projected' });
    // `node examples/reference-consumer/main.ts --queue-url "$REPLICATE_QUEUE_URL" --once`, with the
    // printed export lines in the environment.
    const { stdout } = await execFileAsync(
      process.execPath,
      ['examples/reference-consumer/main.ts', '--queue-url', run.stack.queues.replicate, '--once'],
      {
        cwd: root,
        env: { ...process.env, ...run.environment, LEDGER_TABLE: `CliLedger-${run.stack.stage}` },
      },
    );
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toContainEqual({
      dispatchId: `${detail.jobId}:v1`,
      action: 'ran',
      outcome: 'succeeded',
    });
  });
});
