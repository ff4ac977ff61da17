/**
 * Edge answers of the AWS adapters (SDK responses with optional fields left out) and the self-check's
 * handling of what its probe reports, through aws-sdk-client-mock.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchExecuteStatementCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbJobsTable } from '../../src/aws/dynamodb-jobs-table.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbTableProbe } from '../../src/aws/dynamodb-table-probe.ts';
import { SqsProviderQueues } from '../../src/aws/sqs-provider-queues.ts';
import { runSelfCheck } from '../../src/heartbeat/self-check.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';
import type { PlannedJobStatus } from '../../src/ports/jobs-table.ts';
import type { TableProbe } from '../../src/ports/table-probe.ts';
import { withVersion } from '../support/records.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const documents = mockClient(DynamoDBDocumentClient);
const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

beforeEach(() => {
  documents.reset();
  dynamodb.reset();
  sqs.reset();
});

const config = { stage: 'test', eventLogTable: 'RoutingLog-test' };
const probing = (describe: TableProbe['describe']) =>
  runSelfCheck({ loadConfig: () => config, logTableProbe: { describe } });

describe('DynamoDbJobsTable statements', () => {
  it('given an update that has a value for every owned attribute, when projecting, then the UPDATE has no REMOVE clause', async () => {
    documents.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    const update: PlannedJobStatus = {
      jobId: 'job-1',
      status: 'ROUTED',
      provider: 'fal',
      model: 'fal-ai/veo3',
      queue: 'FalJobQueue',
      reason: 'no_route',
      routedAt: '2026-11-25T10:00:01.000Z',
      routingVersion: 2,
    };

    await new DynamoDbJobsTable(createDocumentClient(), 'Jobs-test').write(
      [update],
      new Map([['job-1', { status: 'SUBMITTED', routingVersion: null, statusVersion: null, done: [] }]]),
    );

    expect(
      documents.commandCalls(BatchExecuteStatementCommand)[0]?.args[0].input.Statements?.[0]?.Statement,
    ).not.toMatch(/REMOVE/);
  });
});

describe('DynamoDbRoutingLog readStream', () => {
  it('given a query page without Items between full pages, when reading a stream, then it returns the records of the other pages in order', async () => {
    const first = aDecisionRecord({ jobId: 'paged' });
    const third = withVersion(first, 2);
    documents
      .on(QueryCommand)
      .resolvesOnce({ Items: [storedItemOf(first)], LastEvaluatedKey: { stream: 'job#paged', version: 1 } })
      .resolvesOnce({ LastEvaluatedKey: { stream: 'job#paged', version: 1 } })
      .resolvesOnce({ Items: [storedItemOf(third)] });

    const records = await new DynamoDbRoutingLog(createDocumentClient(), 'RoutingLog-test').readStream(
      'job#paged',
    );

    expect(records.map((r) => r.metadata.version)).toEqual([1, 2]);
    expect(documents.commandCalls(QueryCommand)).toHaveLength(3);
  });

  it('given a throttled query, when reading a stream, then the error propagates', async () => {
    documents
      .on(QueryCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(
      new DynamoDbRoutingLog(createDocumentClient(), 'RoutingLog-test').readStream('job#x'),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });
});

describe('DynamoDbTableProbe', () => {
  const probe = () => new DynamoDbTableProbe(new DynamoDBClient({ region: 'us-east-1' }));

  it('given DescribeTable answers without a table description, when probed, then the table is found with status UNKNOWN and no stream', async () => {
    dynamodb.on(DescribeTableCommand).resolves({});
    expect(await probe().describe('RoutingLog-test')).toEqual({
      kind: 'found',
      status: 'UNKNOWN',
      streamEnabled: false,
      streamViewType: undefined,
    });
  });

  it('given such an answer, when the self-check runs, then it fails as log_table_unavailable rather than passing', async () => {
    dynamodb.on(DescribeTableCommand).resolves({});
    const result = await runSelfCheck({ loadConfig: () => config, logTableProbe: probe() });
    expect(result).toEqual({
      healthy: false,
      reason: 'log_table_unavailable',
      detail: 'table RoutingLog-test is UNKNOWN',
    });
  });

  it('given DescribeTable is throttled, when probed, then the error propagates (only a missing table is an answer)', async () => {
    dynamodb
      .on(DescribeTableCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(probe().describe('RoutingLog-test')).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('runSelfCheck', () => {
  it('given a stream reported enabled but without a view type, when checked, then it fails as log_table_stream_disabled', async () => {
    const result = await probing(async () => ({
      kind: 'found',
      status: 'ACTIVE',
      streamEnabled: true,
      streamViewType: undefined,
    }));
    expect(result).toEqual({
      healthy: false,
      reason: 'log_table_stream_disabled',
      detail: 'table RoutingLog-test has no NEW_IMAGE stream (view type: none)',
    });
  });

  it('given a probe that rejects with a non-Error value, when checked, then it fails as log_table_unreachable with that value as detail', async () => {
    const result = await probing(async () => {
      throw 'ECONNREFUSED 127.0.0.1:8000';
    });
    expect(result).toEqual({
      healthy: false,
      reason: 'log_table_unreachable',
      detail: 'DescribeTable RoutingLog-test failed: ECONNREFUSED 127.0.0.1:8000',
    });
  });

  it('given a configuration loader that throws a non-Error value, when checked, then it fails as config_invalid without probing', async () => {
    let probed = false;
    const result = await runSelfCheck({
      loadConfig: () => {
        throw 'no configuration';
      },
      logTableProbe: {
        describe: async () => {
          probed = true;
          return { kind: 'missing' };
        },
      },
    });
    expect(result).toEqual({ healthy: false, reason: 'config_invalid', detail: 'no configuration' });
    expect(probed).toBe(false);
  });
});

describe('SqsProviderQueues refusals', () => {
  it('given a refusal without code, message or sender-fault flag, when sending, then it is reported retryable as Unknown with an empty message', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: 'm0', Code: undefined, SenderFault: undefined }] });
    const failures = await new SqsProviderQueues(new SQSClient({ region: 'us-east-1' })).sendBatch(
      'https://sqs.us-east-1.amazonaws.com/123456789012/FalJobQueue-test',
      [{ id: 'm0', dispatchId: 'job-1:v1', jobId: 'job-1', provider: 'fal', routingVersion: 1, body: '{}' }],
    );
    expect(failures.get('m0')).toEqual({ code: 'Unknown', message: '', retryable: true });
  });

  it('given SendMessageBatch itself is throttled, when sending, then the error propagates to the retry layer', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestThrottled' }));
    await expect(
      new SqsProviderQueues(new SQSClient({ region: 'us-east-1' })).sendBatch(
        'https://sqs.us-east-1.amazonaws.com/123456789012/FalJobQueue-test',
        [
          {
            id: 'm0',
            dispatchId: 'job-1:v1',
            jobId: 'job-1',
            provider: 'fal',
            routingVersion: 1,
            body: '{}',
          },
        ],
      ),
    ).rejects.toMatchObject({ name: 'RequestThrottled' });
  });
});
