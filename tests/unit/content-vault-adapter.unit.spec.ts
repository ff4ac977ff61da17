import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ContentTableUnavailableError, DynamoDbContentVault } from '../../src/aws/dynamodb-content-vault.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const vault = () => new DynamoDbContentVault(ddb as unknown as DynamoDBDocumentClient, 'Content-test');
const aKey = { keyId: 'transit#2026-11-25T10#i1', wrapped: new Uint8Array(48).fill(1), expiresAt: 2e9 };
const aSeed = { id: 'hash#2026-11-25T10', seed: new Uint8Array(32).fill(1), expiresAt: 2e9 };
const anItem = (id: string) => ({ id, userId: 'u', recordedAt: 't', content: '{}', expiresAt: 2e9 });

describe('the content table adapter', () => {
  beforeEach(() => ddb.reset());

  it("when a user's ids are asked, then every segment is scanned consistently for ids only, naming no attribute but id and userId (what the operator policy allows)", async () => {
    ddb.on(ScanCommand).callsFake((input: { Segment: number }) => ({
      Items: input.Segment === 1 ? [{ id: 'job#a' }, { id: 'job#b' }] : [],
    }));
    expect(await vault().idsOfUser('user-7')).toEqual(['job#a', 'job#b']);
    const inputs = ddb.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.Segment).sort()).toEqual([0, 1, 2, 3]);
    for (const input of inputs) {
      expect(input).toMatchObject({
        TableName: 'Content-test',
        TotalSegments: 4,
        ConsistentRead: true,
        Select: 'SPECIFIC_ATTRIBUTES',
        ExpressionAttributeValues: { ':user': 'user-7' },
      });
      expect(Object.values(input.ExpressionAttributeNames ?? {}).sort()).toEqual(['id', 'userId']);
      // Attribute names only through placeholders: the ones listed above are all the request touches.
      expect([input.ProjectionExpression, input.FilterExpression]).toEqual(['#id', '#user = :user']);
    }
  });

  it('given a wrapped key, when created, then only the wrapped bytes are written, never over an existing id', async () => {
    ddb.on(PutCommand).resolves({});
    await vault().createKey(aKey);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.Item).toEqual({ id: aKey.keyId, wrapped: aKey.wrapped, expiresAt: 2e9 });
    expect(input?.ConditionExpression).toBe('attribute_not_exists(id)');
  });

  it('given a seed created by another container first, when creating, then the stored seed is returned', async () => {
    const stored = { id: aSeed.id, seed: new Uint8Array(32).fill(9), expiresAt: 2e9 };
    ddb
      .on(PutCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(stored) }),
      );
    expect((await vault().createSeed(aSeed)).seed).toEqual(new Uint8Array(32).fill(9));
  });

  it('given a seed conflict that returns no usable item, then the error propagates', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    await expect(vault().createSeed(aSeed)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('given key items of both generations, when read, then wrapped ones stay wrapped and a legacy clear key is decoded', async () => {
    ddb.on(BatchGetCommand).resolves({
      Responses: {
        'Content-test': [
          { id: aKey.keyId, wrapped: aKey.wrapped, expiresAt: 2e9 },
          { id: 'transit#2026-11-25T09', key: Buffer.alloc(32, 3).toString('base64'), expiresAt: 2e9 },
        ],
      },
    });
    expect(await vault().readKeys([aKey.keyId, 'transit#2026-11-25T09'])).toEqual([
      { kind: 'wrapped', ...aKey },
      { kind: 'legacy', keyId: 'transit#2026-11-25T09', key: Buffer.alloc(32, 3), expiresAt: 2e9 },
    ]);
  });

  it('given a throttled key creation, when creating, then the error propagates', async () => {
    ddb.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    await expect(vault().createKey(aKey)).rejects.toThrow(/Provisioned/);
  });

  it('given 30 items to retain and one of them erased, then one put per other item and one erasure marker, in calls of at most 25, retrying unprocessed ones', async () => {
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: { 'Content-test': [{ PutRequest: { Item: { id: 'i0', erased: true } } }] },
      })
      .resolves({});
    const items = Array.from({ length: 30 }, (_, i) => anItem(`i${i}`));
    await vault().write({ retain: [...items, { ...anItem('x'), userId: null }], erase: ['i0'] });
    const requests = ddb
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.['Content-test'] ?? []);
    // The erased item is replaced by its marker (no content, no userId, no TTL): once, then its retry.
    expect(requests.filter((r) => r.PutRequest?.Item?.id === 'i0')).toEqual([
      { PutRequest: { Item: { id: 'i0', erased: true } } },
      { PutRequest: { Item: { id: 'i0', erased: true } } },
    ]);
    expect(requests.find((r) => r.PutRequest?.Item?.id === 'x')?.PutRequest?.Item).not.toHaveProperty(
      'userId',
    );
    expect(
      ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.['Content-test']?.length),
    ).toEqual([25, 6, 1]);
  });

  it('given items that stay unprocessed, then writing and reading fail with a typed error', async () => {
    ddb
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { 'Content-test': [{ DeleteRequest: { Key: { id: 'i0' } } }] } });
    await expect(vault().write({ retain: [], erase: ['i0'] })).rejects.toBeInstanceOf(
      ContentTableUnavailableError,
    );
    ddb.on(BatchGetCommand).resolves({ UnprocessedKeys: { 'Content-test': { Keys: [{ id: 'i0' }] } } });
    await expect(vault().read(['i0'])).rejects.toMatchObject({
      name: 'ContentTableUnavailableError',
      unprocessed: 1,
    });
  });

  it('given ids to read, then they are read strongly consistently, deduplicated, and unprocessed keys retried', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'Content-test': [anItem('a')] },
        UnprocessedKeys: { 'Content-test': { Keys: [{ id: 'b' }] } },
      })
      .resolves({ Responses: { 'Content-test': [{ ...anItem('b'), userId: 7 }] } });
    const found = await vault().read(['a', 'b', 'a']);
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.['Content-test']).toMatchObject({
      Keys: [{ id: 'a' }, { id: 'b' }],
      ConsistentRead: true,
    });
    expect(found.get('a')).toMatchObject({ userId: 'u' });
    expect(found.get('b')).toMatchObject({ userId: null });
  });
});
