import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { VersionConflictError } from '../../src/errors.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
const log = () => new DynamoDbRoutingLog(createDocumentClient(), 'RoutingLog-test');

describe('DynamoDbRoutingLog errors', () => {
  beforeEach(() => dynamodb.reset());

  it('given a condition failure without the old item, when appending, then it is a VersionConflictError that carries none (the next read finds it)', async () => {
    dynamodb
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'no item', $metadata: {} }));
    const record = aDecisionRecord();
    const conflict = await log()
      .appendToStream(record.metadata.stream, [record], { expectedVersion: 0 })
      .catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(VersionConflictError);
    expect(conflict).toMatchObject({ version: 1, existing: undefined });
    expect((conflict as Error).cause).toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('given a throttled table, when appending, then the error propagates for the caller to retry', async () => {
    dynamodb.on(PutCommand).rejects(new Error('ThrottlingException'));
    const record = aDecisionRecord();
    await expect(
      log().appendToStream(record.metadata.stream, [record], { expectedVersion: 0 }),
    ).rejects.toThrow('ThrottlingException');
  });
});
