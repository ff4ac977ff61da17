import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbEffectMarkers } from '../../src/aws/dynamodb-effect-markers.ts';
import { DynamoDbJobsTable } from '../../src/aws/dynamodb-jobs-table.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { effectMarkersContract, jobsTableContract } from '../support/projection-ports-contract.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
const documents = createDocumentClient();

beforeAll(async () => {
  stack = await aProvisionedStack();
});

jobsTableContract('DynamoDbJobsTable on DynamoDB Local', () => {
  const TableName = stack.tables.jobs;
  return {
    jobs: new DynamoDbJobsTable(documents, TableName),
    seed: async (Item) => void (await documents.send(new PutCommand({ TableName, Item }))),
    remove: async (jobId) => void (await documents.send(new DeleteCommand({ TableName, Key: { jobId } }))),
    item: async (jobId) =>
      (await documents.send(new GetCommand({ TableName, Key: { jobId }, ConsistentRead: true }))).Item,
  };
});

effectMarkersContract(
  'DynamoDbEffectMarkers on DynamoDB Local',
  () => new DynamoDbEffectMarkers(documents, stack.tables.effects, { ttlDays: 7, now: () => new Date() }),
);
