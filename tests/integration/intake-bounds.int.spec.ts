/**
 * The intake bounds against the real item size limit: DynamoDB Local accepts the largest record
 * intake keeps (a routable job filling the 256 KB bound, content sealed) and the facts-only records
 * of details beyond the bounds, written by the real router handler.
 */

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import { MAX_DETAIL_BYTES } from '../../src/intake/submission.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { DYNAMODB_ITEM_LIMIT_BYTES, dynamoDbItemSize } from '../support/dynamodb-item-size.ts';
import { nested, withField } from '../support/hostile-json.ts';
import { appendRecord } from '../support/log-appends.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
let handler: typeof import('../../src/lambda/router.ts').handler;
const logOf = () => new DynamoDbRoutingLog(createDocumentClient(), stack.tables.routingLog);

beforeAll(async () => {
  stack = await aProvisionedStack();
  for (const method of ['info', 'warn', 'log', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation(() => undefined);
  }
  handler = (await import('../../src/lambda/router.ts')).handler;
});

describe('intake bounds on DynamoDB Local', () => {
  it('given a routable job filling the byte bound, when recorded, then DynamoDB Local stores it and its measured size is under the item limit', async () => {
    const detail = {
      ...withField('reference', 'x'.repeat(MAX_DETAIL_BYTES - 400)),
      jobId: 'job-at-the-bound',
    };
    const result = await routeJob(
      { type: 'RouteJob', data: { event: aSubmittedEvent(detail) } },
      {
        log: logOf(),
        credits: new InMemoryCreditBalances(),
        table: defaultRoutingTable,
        ...inMemoryContentPorts(new InMemoryContentVault()),
        now: () => new Date(),
        newId: () => 'unused',
        maxMessageBytes: 1_048_576,
      },
    );
    expect(result).toMatchObject({ outcome: 'recorded', record: { type: 'RoutingDecided' } });
    expect(dynamoDbItemSize(result.record)).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    expect(await logOf().readStream('job#job-at-the-bound')).toHaveLength(1);

    // Control: the emulator does enforce the limit, so the acceptance above means something.
    const oversized = {
      ...result.record,
      data: { ...result.record.data, job: 'x'.repeat(DYNAMODB_ITEM_LIMIT_BYTES) },
      metadata: { ...result.record.metadata, stream: 'job#over-the-limit' },
    } as typeof result.record;
    await expect(appendRecord(logOf(), oversized)).rejects.toThrow(/size/i);
  });

  it.each([
    ['nested 5,000 levels', { ...withField('meta', nested(5_000)), jobId: 'job-deep' }, 'job#job-deep'],
    [
      'larger than the bound',
      { ...withField('reference', 'x'.repeat(MAX_DETAIL_BYTES)), jobId: 'job-huge' },
      'job#job-huge',
    ],
  ])(
    'given a detail %s, when the router handles it, then an invalid_request record of facts is stored',
    async (_case, detail, stream) => {
      const response = await handler(aSubmittedEvent(detail), aLocalLambdaContext());
      expect(response).toMatchObject({
        outcome: 'recorded',
        decision: 'rejected',
        reason: 'invalid_request',
      });
      expect(await logOf().readStream(stream)).toMatchObject([
        {
          type: 'RoutingRejected',
          data: { reason: 'invalid_request', job: null, fieldErrors: [{ path: 'detail' }] },
        },
      ]);
    },
  );
});
