import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudWatchHeartbeatPublisher } from '../../src/aws/cloudwatch-heartbeat-publisher.ts';
import { DynamoDbTableProbe } from '../../src/aws/dynamodb-table-probe.ts';
import { loadHeartbeatConfig } from '../../src/config/heartbeat-config.ts';
import { ConfigurationError } from '../../src/config/load-config.ts';
import { createHeartbeatHandler } from '../../src/handlers/heartbeat.ts';
import { HeartbeatSelfCheckFailedError } from '../../src/heartbeat/beat.ts';
import { handler } from '../../src/lambda/heartbeat.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';

// The Lambda entry builds its logger at import time: silence it before the imports run.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const scheduledEvent: ScheduledEvent = JSON.parse(
  readFileSync(new URL('../../events/scheduled-heartbeat.json', import.meta.url), 'utf8'),
);

const lambdaContext = aLocalLambdaContext('RoutingManager-Heartbeat-test');

const cloudWatch = mockClient(CloudWatchClient);
const dynamoDb = mockClient(DynamoDBClient);

function givenLogTable(table: {
  status?: string;
  stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY' | 'off';
}) {
  const stream = table.stream ?? 'NEW_IMAGE';
  dynamoDb.on(DescribeTableCommand, { TableName: 'RoutingLog-test' }).resolves({
    Table: {
      TableName: 'RoutingLog-test',
      TableStatus: (table.status ?? 'ACTIVE') as 'ACTIVE',
      StreamSpecification:
        stream === 'off' ? { StreamEnabled: false } : { StreamEnabled: true, StreamViewType: stream },
    },
  });
}

function givenNoLogTable() {
  dynamoDb
    .on(DescribeTableCommand)
    .rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
}

const whenTheScheduleFires = (event: ScheduledEvent = scheduledEvent) => handler(event, lambdaContext);

const publishedMetricData = () =>
  cloudWatch.commandCalls(PutMetricDataCommand).map((call) => call.args[0].input);

beforeEach(() => {
  cloudWatch.reset();
  dynamoDb.reset();
  cloudWatch.on(PutMetricDataCommand).resolves({});
  vi.stubEnv('STAGE', 'test');
  vi.stubEnv('EVENT_LOG_TABLE', 'RoutingLog-test');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('heartbeat: given a healthy, streaming log table', () => {
  it('when the schedule fires, then it publishes Heartbeat = 1 in Agent/RoutingManager, once per dimension set', async () => {
    givenLogTable({ status: 'ACTIVE', stream: 'NEW_IMAGE' });

    const result = await whenTheScheduleFires();

    expect(result).toEqual({ published: true, stage: 'test', at: '2026-06-22T00:25:00.000Z' });
    const [request, ...others] = publishedMetricData();
    expect(others).toHaveLength(0);
    expect(request?.Namespace).toBe('Agent/RoutingManager');
    expect(request?.MetricData).toEqual([
      { MetricName: 'Heartbeat', Value: 1, Unit: 'Count', Timestamp: new Date('2026-06-22T00:25:00Z') },
      {
        MetricName: 'Heartbeat',
        Value: 1,
        Unit: 'Count',
        Timestamp: new Date('2026-06-22T00:25:00Z'),
        Dimensions: [{ Name: 'Stage', Value: 'test' }],
      },
    ]);
  });

  it('when the table is UPDATING with a NEW_AND_OLD_IMAGES stream, then it still beats (the table serves traffic)', async () => {
    givenLogTable({ status: 'UPDATING', stream: 'NEW_AND_OLD_IMAGES' });

    await whenTheScheduleFires();

    expect(publishedMetricData()).toHaveLength(1);
  });

  it('when it probes the table, then it asks DescribeTable for exactly the configured log table', async () => {
    givenLogTable({});

    await whenTheScheduleFires();

    expect(dynamoDb.commandCalls(DescribeTableCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: 'RoutingLog-test' },
    ]);
  });

  it('when PutMetricData fails, then the invocation fails so the Errors metric shows it', async () => {
    givenLogTable({});
    cloudWatch.on(PutMetricDataCommand).rejects(new Error('Rate exceeded'));

    await expect(whenTheScheduleFires()).rejects.toThrow('Rate exceeded');
  });
});

describe('heartbeat: given a failing self-check', () => {
  it.each([
    ['the log table does not exist', givenNoLogTable, 'log_table_missing'],
    ['the log table is still CREATING', () => givenLogTable({ status: 'CREATING' }), 'log_table_unavailable'],
    ['the log table is DELETING', () => givenLogTable({ status: 'DELETING' }), 'log_table_unavailable'],
    ['the log table has no stream', () => givenLogTable({ stream: 'off' }), 'log_table_stream_disabled'],
    [
      'the stream carries keys only',
      () => givenLogTable({ stream: 'KEYS_ONLY' }),
      'log_table_stream_disabled',
    ],
    [
      'DescribeTable is denied',
      () => dynamoDb.on(DescribeTableCommand).rejects(new Error('AccessDeniedException: not authorized')),
      'log_table_unreachable',
    ],
  ] as const)(
    'when %s, then no heartbeat is published and the invocation fails with %s',
    async (_case, given, reason) => {
      given();

      const outcome = whenTheScheduleFires();

      await expect(outcome).rejects.toBeInstanceOf(HeartbeatSelfCheckFailedError);
      await expect(outcome).rejects.toMatchObject({ reason });
      expect(publishedMetricData()).toEqual([]);
    },
  );

  it('when STAGE and EVENT_LOG_TABLE are missing, then it fails with config_invalid naming both, without probing', async () => {
    vi.stubEnv('STAGE', undefined);
    vi.stubEnv('EVENT_LOG_TABLE', '');

    const outcome = whenTheScheduleFires();

    await expect(outcome).rejects.toMatchObject({ reason: 'config_invalid' });
    await expect(outcome).rejects.toThrow(/STAGE, EVENT_LOG_TABLE/);
    expect(dynamoDb.commandCalls(DescribeTableCommand)).toHaveLength(0);
    expect(publishedMetricData()).toEqual([]);
  });

  it('when the self-check fails, then the structured error log carries the reason and the detail', async () => {
    givenNoLogTable();
    const logger = new Logger({ serviceName: 'routing-manager-test', logLevel: 'SILENT' });
    const logError = vi.spyOn(logger, 'error');
    const beat = createHeartbeatHandler(
      {
        loadConfig: () => ({ stage: 'test', eventLogTable: 'RoutingLog-test' }),
        logTableProbe: new DynamoDbTableProbe(new DynamoDBClient({ region: 'us-east-1' })),
        publisher: new CloudWatchHeartbeatPublisher(new CloudWatchClient({ region: 'us-east-1' })),
        now: () => new Date('2026-06-22T00:26:00Z'),
      },
      { logger },
    );

    await expect(beat(scheduledEvent, lambdaContext)).rejects.toThrow(HeartbeatSelfCheckFailedError);

    expect(logError).toHaveBeenCalledWith('Self-check failed; heartbeat withheld', {
      reason: 'log_table_missing',
      detail: 'table RoutingLog-test does not exist',
    });
  });
});

describe('heartbeat: given an event without a usable time', () => {
  it('when the schedule fires, then the beat is stamped with the clock instead', async () => {
    givenLogTable({});
    const beat = createHeartbeatHandler(
      {
        loadConfig: () => ({ stage: 'test', eventLogTable: 'RoutingLog-test' }),
        logTableProbe: new DynamoDbTableProbe(new DynamoDBClient({ region: 'us-east-1' })),
        publisher: new CloudWatchHeartbeatPublisher(new CloudWatchClient({ region: 'us-east-1' })),
        now: () => new Date('2026-06-22T00:26:00Z'),
      },
      { logger: new Logger({ logLevel: 'SILENT' }) },
    );

    const result = await beat({ ...scheduledEvent, time: 'not a time' }, lambdaContext);

    expect(result.at).toBe('2026-06-22T00:26:00.000Z');
    expect(publishedMetricData()[0]?.MetricData?.[0]?.Timestamp).toEqual(new Date('2026-06-22T00:26:00Z'));
  });

  it('when the deployed handler gets it, then the beat is stamped with the system clock', async () => {
    givenLogTable({});
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-06-22T00:27:30Z'));
    try {
      const result = await whenTheScheduleFires({ ...scheduledEvent, time: '' });

      expect(result.at).toBe('2026-06-22T00:27:30.000Z');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('heartbeat configuration', () => {
  it('given a valid environment, then it yields stage and log table', () => {
    expect(loadHeartbeatConfig({ STAGE: 'prod', EVENT_LOG_TABLE: 'RoutingLog-prod' })).toEqual({
      stage: 'prod',
      eventLogTable: 'RoutingLog-prod',
    });
  });

  it('given only EVENT_LOG_TABLE missing, then the error names exactly that variable', () => {
    const load = () => loadHeartbeatConfig({ STAGE: 'dev', EVENT_LOG_TABLE: '  ' });
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow('missing environment variable(s): EVENT_LOG_TABLE');
  });

  it.each([
    ['an upper-case stage', { STAGE: 'Prod', EVENT_LOG_TABLE: 'RoutingLog-prod' }, 'STAGE'],
    ['a stage with a dash', { STAGE: 'dev-1', EVENT_LOG_TABLE: 'RoutingLog-dev' }, 'STAGE'],
    ['a table name with a slash', { STAGE: 'dev', EVENT_LOG_TABLE: 'Routing/Log' }, 'EVENT_LOG_TABLE'],
  ])('given %s, then the error names the invalid variable', (_case, env, variable) => {
    expect(() => loadHeartbeatConfig(env)).toThrow(
      new RegExp(`invalid environment variable\\(s\\): ${variable} `),
    );
  });
});
