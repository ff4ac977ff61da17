/**
 * A local stack is template.yaml's resources, provisioned on the emulators: read back from
 * DynamoDB Local and moto, they carry the template's keys, index, stream, TTL, message size and
 * redrive.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { provisionLocalStack } from '../../src/local/provision.ts';
import { uniqueStage } from '../support/local-aws.ts';

const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
afterAll(() => {
  dynamodb.destroy();
  sqs.destroy();
});

const queueAttributes = async (QueueUrl: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};

describe('provisioning a local stack from template.yaml', () => {
  it('given a stage, the tables read back with the template keys, audit index, stream and TTL', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('p') });
    const { Table: log } = await dynamodb.send(
      new DescribeTableCommand({ TableName: stack.tables.routingLog }),
    );
    expect(log?.KeySchema).toEqual([
      { AttributeName: 'stream', KeyType: 'HASH' },
      { AttributeName: 'version', KeyType: 'RANGE' },
    ]);
    expect(log?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byProviderTimeKeys']);
    expect(log?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(stack.routingLogStreamArn).toBe(log?.LatestStreamArn);

    const { TimeToLiveDescription } = await dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: stack.tables.effects }),
    );
    expect(TimeToLiveDescription?.AttributeName).toBe('expiresAt');

    const { Table: jobs } = await dynamodb.send(new DescribeTableCommand({ TableName: stack.tables.jobs }));
    expect(jobs?.KeySchema).toEqual([{ AttributeName: 'jobId', KeyType: 'HASH' }]);
    expect(stack.tables.credits).toBe(`Credits-${stack.stage}`);
  });

  it('given a stage, the provider queues read back with the template message size and a redrive to their DLQs', async () => {
    const stack = await provisionLocalStack({
      stage: uniqueStage('p'),
      parameters: { ProviderQueueMaxMessageBytes: '1048576' },
    });
    for (const [url, dlq] of [
      [stack.queues.fal, `FalJobQueue-DLQ-${stack.stage}`],
      [stack.queues.replicate, `ReplicateJobQueue-DLQ-${stack.stage}`],
    ] as const) {
      const attributes = await queueAttributes(url);
      expect(attributes.MaximumMessageSize).toBe('1048576');
      expect(JSON.parse(attributes.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: expect.stringMatching(new RegExp(`:${dlq}$`)),
        maxReceiveCount: 5,
      });
    }
  });

  it('given FIFO provider queues, the queue and its DLQ are both FIFO', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('p'), fifoProviderQueues: true });
    const attributes = await queueAttributes(stack.queues.fal);
    expect(stack.queues.fal).toMatch(/FalJobQueue-p[0-9a-f]+\.fifo$/);
    expect(attributes.FifoQueue).toBe('true');
    expect(JSON.parse(attributes.RedrivePolicy ?? '{}').deadLetterTargetArn).toMatch(
      /-DLQ-p[0-9a-f]+\.fifo$/,
    );
  });
});
