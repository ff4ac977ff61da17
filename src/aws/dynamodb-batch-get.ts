/**
 * Strongly consistent reads of many items by key: BatchGetItem in calls of ≤ 100 keys (at most
 * CHUNKS_IN_FLIGHT at once), retrying what DynamoDB leaves unprocessed a bounded number of times.
 * The items read here are small bookkeeping items (markers, Jobs routing attributes), far below the
 * call's 16 MB answer limit; a partial answer comes back as UnprocessedKeys and is read again.
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
  const { tableName, keyName, attributes } = request;
  const found = new Map<string, Record<string, unknown>>();
  const names = attributes ? [keyName, ...attributes] : [];
  const projection =
    names.length > 0
      ? {
          ProjectionExpression: names.map((_, i) => `#a${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
        }
      : {};
  await forEachBounded(
    chunksOf([...new Set(request.ids)], BATCH_GET_LIMIT),
    CHUNKS_IN_FLIGHT,
    async (chunk) => {
      let keys: Record<string, unknown>[] = chunk.map((id) => ({ [keyName]: id }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= rounds.maxRounds) throw unprocessedError(keys.length);
        if (round > 0) await delay(rounds.backoffMs(round));
        const output = await client.send(
          new BatchGetCommand({
            RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true, ...projection } },
          }),
        );
        for (const item of output.Responses?.[tableName] ?? []) found.set(item[keyName] as string, item);
        keys = (output.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    },
  );
  return found;
}
