import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
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

  it('given items to retain new, then each is one INSERT (refused over an existing id), 25 to a call, and each is answered alone: throttled ones sent again, refused ones read and answered with what is there, others failed', async () => {
    let throttled = false;
    const answer = (
      id: unknown,
    ): { Error?: { Code: 'ThrottlingError' | 'DuplicateItem' | 'ValidationError' } } => {
      if (id === 'i0' && !throttled) {
        throttled = true;
        return { Error: { Code: 'ThrottlingError' } };
      }
      if (id === 'i1' || id === 'i2') return { Error: { Code: 'DuplicateItem' } };
      if (id === 'i3') return { Error: { Code: 'ValidationError' } };
      return {};
    };
    ddb.on(BatchExecuteStatementCommand).callsFake((input: { Statements: { Parameters: unknown[] }[] }) => ({
      Responses: input.Statements.map(({ Parameters }) => answer(Parameters[0])),
    }));
    ddb
      .on(BatchGetCommand)
      .resolves({ Responses: { 'Content-test': [anItem('i1'), { id: 'i2', erased: true }] } });
    const items = Array.from({ length: 30 }, (_, i) => anItem(`i${i}`));
    const outcomes = await vault().retainNew([...items, { ...anItem('i5'), content: 'a second copy' }]);
    const statements = ddb
      .commandCalls(BatchExecuteStatementCommand)
      .map((c) => c.args[0].input.Statements ?? []);
    expect(statements.map((s) => s.length)).toEqual([25, 5, 1]);
    expect(statements[0]?.[0]).toEqual({
      Statement: `INSERT INTO "Content-test" VALUE {'id': ?, 'userId': ?, 'recordedAt': ?, 'content': ?, 'expiresAt': ?}`,
      Parameters: ['i0', 'u', 't', '{}', 2e9],
    });
    expect(statements[2]?.[0]?.Parameters?.[0]).toBe('i0'); // the throttled one, in the next round
    expect(outcomes.size).toBe(30);
    expect(outcomes.get('i0')).toEqual({ kind: 'retained' });
    expect(outcomes.get('i1')).toEqual({ kind: 'existing', item: { ...anItem('i1'), userId: 'u' } });
    expect(outcomes.get('i2')).toEqual({ kind: 'existing', item: { id: 'i2', erased: true } });
    expect(outcomes.get('i3')).toMatchObject({ kind: 'failed', code: 'ValidationError' });
    expect(outcomes.get('i29')).toEqual({ kind: 'retained' });
  });

  it('given content without a user id, when retained new, then its INSERT names no userId', async () => {
    ddb.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    await vault().retainNew([{ ...anItem('x'), userId: null }]);
    expect(ddb.commandCalls(BatchExecuteStatementCommand)[0]?.args[0].input.Statements?.[0]).toEqual({
      Statement: `INSERT INTO "Content-test" VALUE {'id': ?, 'recordedAt': ?, 'content': ?, 'expiresAt': ?}`,
      Parameters: ['x', 't', '{}', 2e9],
    });
  });

  it('given a refused id whose item is gone by the time it is read (its TTL ran out), then it is inserted again', async () => {
    ddb
      .on(BatchExecuteStatementCommand)
      .resolvesOnce({ Responses: [{ Error: { Code: 'DuplicateItem' } }] })
      .resolves({ Responses: [{}] });
    ddb.on(BatchGetCommand).resolves({ Responses: { 'Content-test': [] } });
    expect(await vault().retainNew([anItem('a')])).toEqual(new Map([['a', { kind: 'retained' }]]));
    expect(ddb.commandCalls(BatchExecuteStatementCommand)).toHaveLength(2);
  });

  it('given the call fails, the read of refused ids fails, or a statement stays throttled, then those entries are answered failed, never thrown', async () => {
    ddb.on(BatchExecuteStatementCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    expect((await vault().retainNew([anItem('a')])).get('a')).toMatchObject({
      kind: 'failed',
      message: 'ProvisionedThroughputExceeded',
    });
    ddb.reset();
    ddb.on(BatchExecuteStatementCommand).resolves({ Responses: [{ Error: { Code: 'DuplicateItem' } }] });
    ddb.on(BatchGetCommand).rejects(new Error('read throttled'));
    expect((await vault().retainNew([anItem('b')])).get('b')).toMatchObject({
      kind: 'failed',
      message: 'read throttled',
    });
    ddb.reset();
    ddb.on(BatchExecuteStatementCommand).resolves({ Responses: [{ Error: { Code: 'ThrottlingError' } }] });
    expect((await vault().retainNew([anItem('c')])).get('c')).toMatchObject({
      kind: 'failed',
      code: 'ContentTableUnavailableError',
    });
  });
});
