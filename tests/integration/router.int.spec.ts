import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbCreditBalances } from '../../src/aws/dynamodb-credit-balances.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
let handler: typeof import('../../src/lambda/router.ts').handler;
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const logOf = () => new DynamoDbRoutingLog(createDocumentClient(), stack.tables.routingLog);

beforeAll(async () => {
  stack = await aProvisionedStack();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  handler = (await import('../../src/lambda/router.ts')).handler;
});

describe('router handler against DynamoDB Local', () => {
  it('given routed and rejected submissions, when invoked, then the log holds the right records', async () => {
    const routed = aSubmissionDetail({ provider: 'replicate' });
    const rejected = aSubmissionDetail({ resolution: '4k' });
    await handler(aSubmittedEvent(routed), aLocalLambdaContext());
    await handler(aSubmittedEvent(rejected), aLocalLambdaContext());
    const log = logOf();
    expect(await log.readStream(`job#${routed.jobId}`)).toMatchObject([
      {
        type: 'RoutingDecided',
        data: { provider: 'replicate', queue: 'ReplicateJobQueue' },
        metadata: { version: 1 },
      },
    ]);
    expect(await log.readStream(`job#${rejected.jobId}`)).toMatchObject([
      {
        type: 'RoutingRejected',
        data: { reason: 'no_route', explanation: { matchedRule: 'otherwise-no-route' } },
      },
    ]);
  });

  it('given 50 concurrent submissions of one jobId, when invoked, then exactly one record exists and 49 are duplicates', async () => {
    const detail = aSubmissionDetail();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => handler(aSubmittedEvent({ ...detail }), aLocalLambdaContext())),
    );
    const outcomes = responses.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(49);
    expect(await logOf().readStream(`job#${detail.jobId}`)).toHaveLength(1);
  });

  it('given a decided job, when a conflicting payload arrives, then it is detected and the record is unchanged', async () => {
    const detail = aSubmissionDetail();
    await handler(aSubmittedEvent(detail), aLocalLambdaContext());
    const [before] = await logOf().readStream(`job#${detail.jobId}`);
    const response = await handler(
      aSubmittedEvent({ ...detail, prompt: 'a different video' }),
      aLocalLambdaContext(),
    );
    expect(response.outcome).toBe('conflicting_duplicate');
    expect(await logOf().readStream(`job#${detail.jobId}`)).toEqual([before]);
  });

  it('given invalid input, when invoked, then the rejection and its field errors are recorded', async () => {
    const withId = aSubmissionDetail({ lengthSec: 'long' });
    const event = aSubmittedEvent({ prompt: 'no job id here' });
    await handler(aSubmittedEvent(withId), aLocalLambdaContext());
    await handler(event, aLocalLambdaContext());
    expect(await logOf().readStream(`job#${withId.jobId}`)).toMatchObject([
      { data: { reason: 'invalid_request', fieldErrors: [{ path: 'detail.lengthSec' }] } },
    ]);
    expect(await logOf().readStream(`event#${event.id}`)).toMatchObject([
      { data: { reason: 'invalid_request' }, metadata: { jobId: null, eventId: event.id } },
    ]);
  });
});

describe('credit balances from Credits-<Stage>', () => {
  it('given a credit record, when read, then its balance is returned; a missing or malformed one is null', async () => {
    await documents.send(
      new PutCommand({ TableName: stack.tables.credits, Item: { userId: 'u-1', balance: 12.5 } }),
    );
    await documents.send(
      new PutCommand({ TableName: stack.tables.credits, Item: { userId: 'u-2', balance: 'x' } }),
    );
    const credits = new DynamoDbCreditBalances(createDocumentClient(), stack.tables.credits);
    expect(await credits.balanceOf('u-1')).toBe(12.5);
    expect(await credits.balanceOf('u-2')).toBeNull();
    expect(await credits.balanceOf('u-3')).toBeNull();
  });
});
