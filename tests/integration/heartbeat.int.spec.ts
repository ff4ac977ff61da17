import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_METRIC_NAME, HEARTBEAT_NAMESPACE } from '../../src/config/heartbeat-config.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { tableDefinition } from '../../src/local/template-resources.ts';
import { readTemplate, TemplateEvaluator } from '../../src/template/cloudformation-template.ts';

// The handler builds its logger when imported: keep the run's output readable.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const sample: ScheduledEvent = JSON.parse(
  readFileSync(new URL('../../events/scheduled-heartbeat.json', import.meta.url), 'utf8'),
);
const lambdaContext = aLocalLambdaContext('RoutingManager-Heartbeat-it');

const dynamodb = new DynamoDBClient({});
const cloudwatch = new CloudWatchClient({});
const createdTables: string[] = [];
let handler: typeof import('../../src/lambda/heartbeat.ts').handler;

/** A stage nobody else in this emulator run uses, so metric assertions see only this file's beats. */
const aUniqueStage = () => `hb${randomBytes(5).toString('hex')}`;

/** The routing log as template.yaml defines it, under another name, with or without its stream. */
async function givenLogTable(name: string, stream: 'NEW_IMAGE' | 'none') {
  const { input: defined } = tableDefinition(
    new TemplateEvaluator(readTemplate(), { parameters: { Stage: 'hb' } }),
    'RoutingLogTable',
  );
  const { StreamSpecification: _stream, ...withoutStream } = defined;
  const input: CreateTableCommandInput = {
    ...(stream === 'none' ? withoutStream : defined),
    TableName: name,
  };
  await dynamodb.send(new CreateTableCommand(input));
  createdTables.push(name);
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30, minDelay: 1 }, { TableName: name });
}

/** The scheduled-event sample, fired now: CloudWatch only takes data points from the last two weeks. */
function whenTheScheduleFires(stage: string, eventLogTable: string, at: Date) {
  vi.stubEnv('STAGE', stage);
  vi.stubEnv('EVENT_LOG_TABLE', eventLogTable);
  return handler({ ...sample, time: at.toISOString() }, lambdaContext).finally(() => vi.unstubAllEnvs());
}

const stageHeartbeats = async (stage: string) =>
  (
    await cloudwatch.send(
      new ListMetricsCommand({
        Namespace: HEARTBEAT_NAMESPACE,
        MetricName: HEARTBEAT_METRIC_NAME,
        Dimensions: [{ Name: 'Stage', Value: stage }],
      }),
    )
  ).Metrics ?? [];

async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  deadlineMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  handler = (await import('../../src/lambda/heartbeat.ts')).handler;
});

afterAll(async () => {
  await Promise.all(createdTables.map((TableName) => dynamodb.send(new DeleteTableCommand({ TableName }))));
});

describe('heartbeat against DynamoDB Local and moto CloudWatch', () => {
  it('given a streaming log table, when the schedule fires, then Heartbeat = 1 is listed and summed for the stage', async () => {
    const stage = aUniqueStage();
    await givenLogTable(`RoutingLog-${stage}`, 'NEW_IMAGE');
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000);

    const result = await whenTheScheduleFires(stage, `RoutingLog-${stage}`, at);

    expect(result).toEqual({ published: true, stage, at: at.toISOString() });
    const listed = await pollUntil(
      () => stageHeartbeats(stage),
      (metrics) => metrics.length > 0,
    );
    expect(listed).toEqual([
      {
        Namespace: HEARTBEAT_NAMESPACE,
        MetricName: HEARTBEAT_METRIC_NAME,
        Dimensions: [{ Name: 'Stage', Value: stage }],
      },
    ]);
    const { MetricDataResults } = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(at.getTime() - 5 * 60_000),
        EndTime: new Date(at.getTime() + 5 * 60_000),
        MetricDataQueries: [
          {
            Id: 'beats',
            MetricStat: {
              Metric: {
                Namespace: HEARTBEAT_NAMESPACE,
                MetricName: HEARTBEAT_METRIC_NAME,
                Dimensions: [{ Name: 'Stage', Value: stage }],
              },
              Period: 600,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    const values = MetricDataResults?.find((r) => r.Id === 'beats')?.Values ?? [];
    expect(values.reduce((sum, value) => sum + value, 0)).toBe(1);
  });

  it('given a streaming log table, when the schedule fires, then the dimensionless agent heartbeat exists too', async () => {
    const stage = aUniqueStage();
    await givenLogTable(`RoutingLog-${stage}`, 'NEW_IMAGE');

    await whenTheScheduleFires(stage, `RoutingLog-${stage}`, new Date());

    const { Metrics } = await cloudwatch.send(
      new ListMetricsCommand({ Namespace: HEARTBEAT_NAMESPACE, MetricName: HEARTBEAT_METRIC_NAME }),
    );
    expect(Metrics?.some((metric) => (metric.Dimensions ?? []).length === 0)).toBe(true);
  });

  it('given no log table, when the schedule fires, then the invocation fails with log_table_missing and no beat exists', async () => {
    const stage = aUniqueStage();

    const outcome = whenTheScheduleFires(stage, `RoutingLog-${stage}`, new Date());

    await expect(outcome).rejects.toMatchObject({
      name: 'HeartbeatSelfCheckFailedError',
      reason: 'log_table_missing',
    });
    expect(await stageHeartbeats(stage)).toEqual([]);
  });

  it('given a log table without a stream, when the schedule fires, then no beat exists (nothing would be projected)', async () => {
    const stage = aUniqueStage();
    await givenLogTable(`RoutingLog-${stage}`, 'none');

    const outcome = whenTheScheduleFires(stage, `RoutingLog-${stage}`, new Date());

    await expect(outcome).rejects.toMatchObject({ reason: 'log_table_stream_disabled' });
    expect(await stageHeartbeats(stage)).toEqual([]);
  });
});
