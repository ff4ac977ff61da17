/**
 * `RoutingContent-<Stage>` on DynamoDB (key `id`, TTL `expiresAt`, sparse index `byUser` on
 * `userId`/`recordedAt`, KEYS_ONLY): transit keys and retained user content (src/content).
 * A key is created with one conditional PutItem that returns the stored key when another writer
 * was first (ALL_OLD), so every container of the hour seals under the same key. Content is written
 * and erased with BatchWriteItem (≤ 25 per call) and read with strongly consistent BatchGetItem
 * (≤ 100 keys per call), retrying what DynamoDB leaves unprocessed a bounded number of times.
 */

import { setTimeout as delay } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CHUNKS_IN_FLIGHT, chunksOf } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { RoutingManagerError } from '../errors.ts';
import type { ContentKey, ContentKeyTable, ContentStore, RetainedContent } from '../ports/content-vault.ts';
import { BATCH_GET_LIMIT } from './dynamodb-batch-get.ts';
import { BATCH_WRITE_LIMIT } from './dynamodb-effect-markers.ts';

export const CONTENT_USER_INDEX = 'byUser';
const MAX_ROUNDS = 4;

export class ContentTableUnavailableError extends RoutingManagerError {
  readonly unprocessed: number;
  constructor(operation: 'read' | 'write', unprocessed: number) {
    super(
      'content_table_unavailable',
      `${unprocessed} content item(s) left unprocessed by DynamoDB after retries (${operation})`,
    );
    this.name = 'ContentTableUnavailableError';
    this.unprocessed = unprocessed;
  }
}

type Item = Record<string, unknown>;

const keyFromItem = (item: Item): ContentKey => ({
  keyId: item.id as string,
  key: Buffer.from(item.key as string, 'base64'),
  expiresAt: Number(item.expiresAt),
});

const contentFromItem = (item: Item): RetainedContent => ({
  id: item.id as string,
  userId: typeof item.userId === 'string' ? item.userId : null,
  recordedAt: item.recordedAt as string,
  content: item.content as string,
  expiresAt: Number(item.expiresAt),
});

export class DynamoDbContentVault implements ContentKeyTable, ContentStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async createKey(candidate: ContentKey): Promise<ContentKey> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            id: candidate.keyId,
            key: candidate.key.toString('base64'),
            expiresAt: candidate.expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return candidate;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item)
        return keyFromItem(unmarshall(error.Item));
      throw error;
    }
  }

  async readKeys(keyIds: readonly string[]): Promise<ContentKey[]> {
    return [...(await this.#batchGet(keyIds)).values()].map(keyFromItem);
  }

  async read(ids: readonly string[]): Promise<Map<string, RetainedContent>> {
    const found = new Map<string, RetainedContent>();
    for (const [id, item] of await this.#batchGet(ids)) found.set(id, contentFromItem(item));
    return found;
  }

  async write(changes: { retain: readonly RetainedContent[]; erase: readonly string[] }): Promise<void> {
    // One BatchWriteItem may not put and delete the same key: an erased id is only deleted.
    const erased = new Set(changes.erase);
    const requests = [
      ...changes.retain
        .filter((item) => !erased.has(item.id))
        .map((item) => ({
          PutRequest: {
            Item: {
              id: item.id,
              ...(item.userId ? { userId: item.userId } : {}),
              recordedAt: item.recordedAt,
              content: item.content,
              expiresAt: item.expiresAt,
            },
          },
        })),
      ...[...erased].map((id) => ({ DeleteRequest: { Key: { id } } })),
    ];
    await forEachBounded(chunksOf(requests, BATCH_WRITE_LIMIT), CHUNKS_IN_FLIGHT, async (chunk) => {
      let pending: Item[] = chunk;
      for (let round = 0; pending.length > 0; round++) {
        if (round >= MAX_ROUNDS) throw new ContentTableUnavailableError('write', pending.length);
        if (round > 0) await delay(25 * 2 ** (round - 1));
        const output = await this.#client.send(
          new BatchWriteCommand({ RequestItems: { [this.#tableName]: pending as never } }),
        );
        pending = (output.UnprocessedItems?.[this.#tableName] ?? []) as Item[];
      }
    });
  }

  async idsOfUser(userId: string): Promise<string[]> {
    const ids: string[] = [];
    const pages = paginateQuery(
      { client: this.#client },
      {
        TableName: this.#tableName,
        IndexName: CONTENT_USER_INDEX,
        KeyConditionExpression: 'userId = :user',
        ExpressionAttributeValues: { ':user': userId },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) ids.push(item.id as string);
    return ids;
  }

  async #batchGet(ids: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    await forEachBounded(chunksOf([...new Set(ids)], BATCH_GET_LIMIT), CHUNKS_IN_FLIGHT, async (chunk) => {
      let keys: Item[] = chunk.map((id) => ({ id }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= MAX_ROUNDS) throw new ContentTableUnavailableError('read', keys.length);
        if (round > 0) await delay(25 * 2 ** (round - 1));
        const output = await this.#client.send(
          new BatchGetCommand({ RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of output.Responses?.[this.#tableName] ?? []) found.set(item.id as string, item);
        keys = (output.UnprocessedKeys?.[this.#tableName]?.Keys ?? []) as Item[];
      }
    });
    return found;
  }
}
