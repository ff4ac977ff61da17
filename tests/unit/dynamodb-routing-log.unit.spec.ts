import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
const log = () => new DynamoDbRoutingLog(createDocumentClient(), 'RoutingLog-test');

describe('DynamoDbRoutingLog errors', () => {
  beforeEach(() => dynamodb.reset());

  it('given a condition failure without the old item, when appending, then the error propagates', async () => {
    dynamodb
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'no item', $metadata: {} }));
    await expect(log().append(aDecisionRecord())).rejects.toThrow(ConditionalCheckFailedException);
  });

  it('given a throttled table, when appending, then the error propagates for the caller to retry', async () => {
    dynamodb.on(PutCommand).rejects(new Error('ThrottlingException'));
    await expect(log().append(aDecisionRecord())).rejects.toThrow('ThrottlingException');
  });
});
