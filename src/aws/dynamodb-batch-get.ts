/**
 * Strongly consistent reads of many items by key: BatchGetItem in calls of ≤ 100 keys (at most
 * CHUNKS_IN_FLIGHT at once), retrying what DynamoDB leaves unprocessed a bounded number of times.
 * An answer above the call's 16 MB limit (a hundred log items of up to 400 KB) comes back partial,
 * the rest as UnprocessedKeys, and is read in the next round — bounded by `maxRounds`.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CHUNKS_IN_FLIGHT, chunksOf } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { type BatchRounds, inRounds } from '../batching/in-rounds.ts';

export const BATCH_GET_LIMIT = 100;

/** Thrown when keys are still unprocessed after the last round (`unprocessed` of them). */
export type UnprocessedError = (unprocessed: number) => Error;

/** Every item found among the distinct `ids` of key attribute `keyName`, by id. */
export async function batchGetByKey(
  client: DynamoDBDocumentClient,
  request: {
    readonly tableName: string;
    readonly keyName: string;
    readonly ids: readonly string[];
    /** Attribute names to read (besides the key); all when omitted. */
    readonly attributes?: readonly string[];
  },
  rounds: BatchRounds,
  unprocessedError: UnprocessedError,
): Promise<Map<string, Record<string, unknown>>> {
  const { keyName, attributes } = request;
  const items = await batchGetItems(
    client,
    {
      tableName: request.tableName,
      keys: [...new Set(request.ids)].map((id) => ({ [keyName]: id })),
      ...(attributes ? { attributes: [keyName, ...attributes] } : {}),
    },
    rounds,
    unprocessedError,
  );
  return new Map(items.map((item) => [item[keyName] as string, item]));
}

/** The items found for `keys` (distinct, full primary keys), in no particular order. */
export async function batchGetItems(
  client: DynamoDBDocumentClient,
  request: {
    readonly tableName: string;
    readonly keys: readonly Record<string, unknown>[];
    /** Attribute names to read; all when omitted. */
    readonly attributes?: readonly string[];
  },
  rounds: BatchRounds,
  unprocessedError: UnprocessedError,
): Promise<Record<string, unknown>[]> {
  const { tableName, attributes } = request;
  const found: Record<string, unknown>[] = [];
  const projection = attributes
    ? {
        ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
      }
    : {};
  await forEachBounded(chunksOf(request.keys, BATCH_GET_LIMIT), CHUNKS_IN_FLIGHT, async (chunk) => {
    await inRounds(
      chunk,
      rounds,
      async (keys) => {
        const output = await client.send(
          new BatchGetCommand({
            RequestItems: { [tableName]: { Keys: [...keys], ConsistentRead: true, ...projection } },
          }),
        );
        found.push(...(output.Responses?.[tableName] ?? []));
        return (output.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
      },
      (left) => {
        throw unprocessedError(left.length);
      },
    );
  });
  return found;
}
