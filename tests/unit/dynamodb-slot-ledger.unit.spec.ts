import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbSlotLedger, UnreadableSlotLedgerError } from '../../src/aws/dynamodb-slot-ledger.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
const ledger = () => new DynamoDbSlotLedger(createDocumentClient(), 'ProviderHealth-test');
const ref = { provider: 'fal', shard: 0 };
const AT = 1_000_000;
const request = { dispatchId: 'job-2:v1', capacity: 1, atMs: AT, expiresAtMs: AT + 900_000 };
const refused = (item: Record<string, unknown>) =>
  new ConditionalCheckFailedException({ message: 'refused', $metadata: {}, Item: marshall(item) });

describe('DynamoDbSlotLedger edge cases', () => {
  beforeEach(() => dynamodb.reset());

  it('given another router sweeps the expired holder first, when taking, then the sweep conflict is absorbed and the take retried', async () => {
    dynamodb
      .on(UpdateCommand)
      .rejectsOnce(refused({ pk: 'slots#fal#0', n: 1, 'h#lost:v1': AT - 1 }))
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'swept already', $metadata: {} }))
      .resolves({});
    expect(await ledger().take(ref, request)).toBe('taken');
    expect(dynamodb.commandCalls(UpdateCommand)).toHaveLength(3);
  });

  it('given a shard still full after one sweep, when taking, then it is full (no unbounded retry)', async () => {
    dynamodb.on(UpdateCommand).rejects(refused({ pk: 'slots#fal#0', n: 1, 'h#lost:v1': AT - 1 }));
    expect(await ledger().take(ref, request)).toBe('full');
    expect(dynamodb.commandCalls(UpdateCommand)).toHaveLength(3);
  });

  it('given a throttled table, when taking, sweeping or releasing, then the error propagates for the caller to retry', async () => {
    dynamodb.on(UpdateCommand).rejects(new Error('ThrottlingException'));
    await expect(ledger().take(ref, request)).rejects.toThrow('ThrottlingException');
    await expect(ledger().release(ref, 'job-1:v1')).rejects.toThrow('ThrottlingException');
    dynamodb
      .on(UpdateCommand)
      .rejectsOnce(refused({ pk: 'slots#fal#0', n: 1, 'h#lost:v1': AT - 1 }))
      .rejects(new Error('ThrottlingException'));
    await expect(ledger().take(ref, request)).rejects.toThrow('ThrottlingException');
  });

  it('given a refusal without the old item, when taking, then the shard counts as full', async () => {
    dynamodb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'refused', $metadata: {} }));
    expect(await ledger().take(ref, request)).toBe('full');
  });

  it('given shards DynamoDB keeps leaving unprocessed, when read, then a typed error says so', async () => {
    dynamodb.on(BatchGetCommand).resolves({
      Responses: {},
      UnprocessedKeys: { 'ProviderHealth-test': { Keys: [{ pk: 'slots#fal#0' }] } },
    });
    await expect(ledger().read([ref])).rejects.toThrow(UnreadableSlotLedgerError);
  });
});
