/**
 * `RoutingContent-<Stage>` on DynamoDB (key `id`, TTL `expiresAt`, no secondary index): wrapped
 * transit keys (`transit#…`, binary `wrapped`: never a plaintext key), payload-hash seeds
 * (`hash#<hour>`) and retained user content (src/content).
 * A transit key is created with one conditional PutItem (ids are unique per container); a seed with
 * one conditional PutItem that returns the stored seed when another container was first (ALL_OLD),
 * so every container of the hour derives the same payload-hash key. Fresh content is retained with
 * PartiQL `INSERT` in BatchExecuteStatement (≤ 25 statements per call, each answered alone), which
 * refuses an id that already has an item: that refusal is the projector's erasure check, so it reads
 * only the ids refused (a redelivery, or a job `forget` erased), never every job. Erasure markers are
 * written with BatchWriteItem (≤ 25 per call) and content read with strongly consistent BatchGetItem
 * (≤ 100 keys per call), retrying what DynamoDB leaves unprocessed a bounded number of times.
 *
 * A user's content is found by a strongly consistent parallel Scan that returns only ids (`forget`,
 * at operator time), not by an index: an index entry would be one more write unit for every job
 * routed (≈ $0.59 per million jobs, docs/COST.md), while a scan costs per erasure run, in proportion
 * to the retained content (docs/DATA_PROTECTION.md, "Erasure").
 */

import { setTimeout as delay } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CHUNKS_IN_FLIGHT, chunksOf } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { DEFAULT_BATCH_ROUNDS, inRounds } from '../batching/in-rounds.ts';
import { errorFacts } from '../observability/error-facts.ts';
import type {
  ContentKeyTable,
  ContentStore,
  HashSeed,
  HashSeedTable,
  RetainedContent,
  RetainOutcome,
  StoredContent,
  StoredContentKey,
  WrappedContentKey,
} from '../ports/content-vault.ts';
import { BATCH_GET_LIMIT } from './dynamodb-batch-get.ts';
import { BATCH_WRITE_LIMIT } from './dynamodb-effect-markers.ts';
import { BATCH_STATEMENT_LIMIT, RETRYABLE_STATEMENT_ERRORS } from './dynamodb-jobs-table.ts';
import { UnprocessedItemsError } from './unprocessed-items-error.ts';

const MAX_ROUNDS = 4;
/** Parallel scan segments for `idsOfUser`: a few in flight, each paging through its share. */
export const USER_SCAN_SEGMENTS = 4;

export interface ContentVaultOptions {
  /** Scan segments for `idsOfUser` (tests use several with small pages to cross page boundaries). */
  readonly userScanSegments?: number;
  /** Items DynamoDB evaluates per scan page (default: its 1 MB page). */
  readonly userScanPageSize?: number;
}

export class ContentTableUnavailableError extends UnprocessedItemsError {
  constructor(operation: 'read' | 'write', unprocessed: number) {
    super('content_table_unavailable', 'content item(s)', operation, unprocessed);
    this.name = 'ContentTableUnavailableError';
  }
}

type Item = Record<string, unknown>;

const keyFromItem = (item: Item): StoredContentKey =>
  item.wrapped instanceof Uint8Array
    ? { kind: 'wrapped', keyId: item.id as string, wrapped: item.wrapped, expiresAt: Number(item.expiresAt) }
    : // Written before envelope encryption: a key in clear (base64), readable until it expires.
      {
        kind: 'legacy',
        keyId: item.id as string,
        key: Buffer.from(String(item.key), 'base64'),
        expiresAt: Number(item.expiresAt),
      };

const seedFromItem = (item: Item): HashSeed | null =>
  item.seed instanceof Uint8Array
    ? { id: item.id as string, seed: item.seed, expiresAt: Number(item.expiresAt) }
    : null;

const contentFromItem = (item: Item): StoredContent =>
  item.erased === true ? { id: item.id as string, erased: true } : retainedFromItem(item);

const retainedFromItem = (item: Item): RetainedContent => ({
  id: item.id as string,
  userId: typeof item.userId === 'string' ? item.userId : null,
  recordedAt: item.recordedAt as string,
  content: item.content as string,
  expiresAt: Number(item.expiresAt),
});

export class DynamoDbContentVault implements ContentKeyTable, HashSeedTable, ContentStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #options: ContentVaultOptions;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: ContentVaultOptions = {}) {
    this.#client = client;
    this.#tableName = tableName;
    this.#options = options;
  }

  async createKey(key: WrappedContentKey): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { id: key.keyId, wrapped: key.wrapped, expiresAt: key.expiresAt },
        // Never overwrite a key that sealed records: ids are per container, so this only guards.
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  async createSeed(candidate: HashSeed): Promise<HashSeed> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { id: candidate.id, seed: candidate.seed, expiresAt: candidate.expiresAt },
          ConditionExpression: 'attribute_not_exists(id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return candidate;
    } catch (error) {
      const stored =
        error instanceof ConditionalCheckFailedException && error.Item
          ? seedFromItem(unmarshall(error.Item))
          : null;
      if (stored) return stored;
      throw error;
    }
  }

  async readSeed(id: string): Promise<HashSeed | null> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { id }, ConsistentRead: true }),
    );
    return Item ? seedFromItem(Item) : null;
  }

  async readKeys(keyIds: readonly string[]): Promise<StoredContentKey[]> {
    return [...(await this.#batchGet(keyIds)).values()].map(keyFromItem);
  }

  async read(ids: readonly string[]): Promise<Map<string, StoredContent>> {
    const found = new Map<string, StoredContent>();
    for (const [id, item] of await this.#batchGet(ids)) found.set(id, contentFromItem(item));
    return found;
  }

  async retainNew(items: readonly RetainedContent[]): Promise<Map<string, RetainOutcome>> {
    const outcomes = new Map<string, RetainOutcome>();
    // One call may not name an id twice: the first item of an id answers for the others.
    const unique = new Map<string, RetainedContent>();
    for (const item of items) if (!unique.has(item.id)) unique.set(item.id, item);
    await inRounds(
      [...unique.values()],
      DEFAULT_BATCH_ROUNDS,
      async (pending) => {
        const again: RetainedContent[] = [];
        const refused: RetainedContent[] = [];
        await forEachBounded(chunksOf(pending, BATCH_STATEMENT_LIMIT), CHUNKS_IN_FLIGHT, async (chunk) => {
          let responses: { Error?: { Code?: string } }[];
          try {
            const output = await this.#client.send(
              new BatchExecuteStatementCommand({ Statements: chunk.map((item) => this.#insert(item)) }),
            );
            responses = output.Responses ?? [];
          } catch (error) {
            // The SDK already retried the call: its entries fail (their records are redelivered).
            for (const item of chunk) outcomes.set(item.id, { kind: 'failed', ...errorFacts(error) });
            return;
          }
          chunk.forEach((item, i) => {
            const code = responses[i]?.Error?.Code;
            if (code === undefined) outcomes.set(item.id, { kind: 'retained' });
            else if (code === 'DuplicateItem') refused.push(item);
            else if (RETRYABLE_STATEMENT_ERRORS.has(code)) again.push(item);
            else
              outcomes.set(item.id, {
                kind: 'failed',
                code,
                message: `content statement refused: ${code}`,
              });
          });
        });
        if (refused.length === 0) return again;
        // What is there: the content an earlier delivery retained, or an erasure marker.
        let found: Map<string, Item>;
        try {
          found = await this.#batchGet(refused.map((item) => item.id));
        } catch (error) {
          for (const item of refused) outcomes.set(item.id, { kind: 'failed', ...errorFacts(error) });
          return again;
        }
        for (const item of refused) {
          const stored = found.get(item.id);
          // Gone between the two calls (its TTL ran out): insert it again in the next round.
          if (stored) outcomes.set(item.id, { kind: 'existing', item: contentFromItem(stored) });
          else again.push(item);
        }
        return again;
      },
      (left) => {
        const facts = errorFacts(new ContentTableUnavailableError('write', left.length));
        for (const item of left) outcomes.set(item.id, { kind: 'failed', ...facts });
      },
    );
    return outcomes;
  }

  /** `INSERT` refuses an id that has an item (DuplicateItem): retained content is never overwritten. */
  #insert(item: RetainedContent) {
    const attributes: [string, string | number][] = [
      ['id', item.id],
      ...(item.userId ? [['userId', item.userId] as [string, string]] : []),
      ['recordedAt', item.recordedAt],
      ['content', item.content],
      ['expiresAt', item.expiresAt],
    ];
    return {
      Statement: `INSERT INTO "${this.#tableName}" VALUE {${attributes.map(([name]) => `'${name}': ?`).join(', ')}}`,
      Parameters: attributes.map(([, value]) => value),
    };
  }

  async write(changes: { retain: readonly RetainedContent[]; erase: readonly string[] }): Promise<void> {
    // One BatchWriteItem may not write the same key twice: an erased id only gets its marker (no
    // userId, so no user's scan finds it again; no expiresAt, so TTL keeps it).
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
      ...[...erased].map((id) => ({ PutRequest: { Item: { id, erased: true } } })),
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
    const segments = this.#options.userScanSegments ?? USER_SCAN_SEGMENTS;
    const found: string[][] = Array.from({ length: segments }, () => []);
    // Strongly consistent, so content retained a moment ago is found (an index is only eventually
    // consistent); only ids come back, and only the user's retained items (an erasure marker has no
    // userId). Attribute names are placeholders: the policy allows `id` and `userId` only.
    await forEachBounded(
      Array.from({ length: segments }, (_, segment) => segment),
      segments,
      async (segment) => {
        let start: Item | undefined;
        do {
          const page = await this.#client.send(
            new ScanCommand({
              TableName: this.#tableName,
              Segment: segment,
              TotalSegments: segments,
              ConsistentRead: true,
              Select: 'SPECIFIC_ATTRIBUTES',
              ProjectionExpression: '#id',
              FilterExpression: '#user = :user',
              ExpressionAttributeNames: { '#id': 'id', '#user': 'userId' },
              ExpressionAttributeValues: { ':user': userId },
              ...(this.#options.userScanPageSize ? { Limit: this.#options.userScanPageSize } : {}),
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          );
          for (const item of page.Items ?? []) found[segment]?.push(item.id as string);
          start = page.LastEvaluatedKey;
        } while (start);
      },
    );
    return found.flat();
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
