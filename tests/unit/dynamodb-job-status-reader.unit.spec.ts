/** The job-status reader on a mocked document client: the one GetItem it makes. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbJobStatusReader } from '../../src/aws/dynamodb-job-status-reader.ts';

const documents = mockClient(DynamoDBDocumentClient);
afterEach(() => documents.reset());

const aDocumentClient = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

describe('the Jobs reader on DynamoDB', () => {
  it('given a projected job, when read, then its item comes back, read strongly consistent', async () => {
    documents.on(GetCommand).resolves({ Item: { jobId: 'j1', status: 'ROUTED' } });
    const reader = new DynamoDbJobStatusReader(aDocumentClient(), 'Jobs-dev');
    expect(await reader.read('j1')).toEqual({ jobId: 'j1', status: 'ROUTED' });
    expect(documents.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'Jobs-dev',
      Key: { jobId: 'j1' },
      ConsistentRead: true,
    });
  });

  it('given a job with no item, when read, then it is null', async () => {
    documents.on(GetCommand).resolves({});
    const reader = new DynamoDbJobStatusReader(aDocumentClient(), 'Jobs-dev');
    expect(await reader.read('j-unknown')).toBeNull();
  });
});
