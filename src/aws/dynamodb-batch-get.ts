/**
 * Strongly consistent reads of many items by key: BatchGetItem in calls of ≤ 100 keys (at most
 * CHUNKS_IN_FLIGHT at once), retrying what DynamoDB leaves unprocessed a bounded number of times.
 * An answer above the call's 16 MB limit (a hundred log items of up to 400 KB) comes back partial,
 * the rest as UnprocessedKeys, and is read in the next round — bounded by `maxRounds`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { forEachBounded } from '../async/for-each-bounded.ts';
import { CHUNKS_IN_FLIGHT, chunksOf } from '../projections/partial-batch-retry.ts';

export const BATCH_GET_LIMIT = 100;

export interface BatchRounds {
  /** Rounds for unprocessed keys or statements, and the pause before round n (1-based). */
  readonly maxRounds: number;
  readonly backoffMs: (round: number) => number;
}

export const DEFAULT_BATCH_ROUNDS: BatchRounds = {
  maxRounds: 4,
  backoffMs: (round) => 25 * 2 ** (round - 1),
};

/**
 * Sends `items`, then what each call left unprocessed, in at most `rounds.maxRounds` rounds with a
 * pause before each resend; `exhausted` gets what is still left after the last round.
 */
export async function inRounds<T>(
  items: readonly T[],
  rounds: BatchRounds,
  send: (items: readonly T[]) => Promise<readonly T[]>,
  exhausted: (left: readonly T[]) => void,
): Promise<void> {
  let left = items;
  for (let round = 0; left.length > 0; round++) {
    if (round >= rounds.maxRounds) return exhausted(left);
    if (round > 0) await delay(rounds.backoffMs(round));
    left = await send(left);
  }
}

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
