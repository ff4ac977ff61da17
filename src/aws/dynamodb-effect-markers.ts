/**
 * Completion markers on DynamoDB (`RoutingEffects-<Stage>`: key `effectId`, TTL `expiresAt`). Reads
 * are one strongly consistent BatchGetItem round (≤ 100 keys per call) and writes BatchWriteItem
 * (≤ 25 items per call); both retry what DynamoDB leaves unprocessed, a bounded number of times.
 * The table has no stream: markers are bookkeeping, not events.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CHUNKS_IN_FLIGHT, chunksOf } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { type BatchRounds, DEFAULT_BATCH_ROUNDS, inRounds } from '../batching/in-rounds.ts';
import type { EffectMarker, EffectMarkers } from '../ports/effect-markers.ts';
import { batchGetByKey } from './dynamodb-batch-get.ts';
import { UnprocessedItemsError } from './unprocessed-items-error.ts';

export const BATCH_WRITE_LIMIT = 25;

export class EffectMarkersUnavailableError extends UnprocessedItemsError {
  constructor(operation: 'read' | 'write', unprocessed: number) {
    super('effect_markers_unavailable', 'effect marker(s)', operation, unprocessed);
    this.name = 'EffectMarkersUnavailableError';
  }
}

export interface DynamoDbEffectMarkersOptions extends Partial<BatchRounds> {
  /** Days a marker is kept (TTL): longer than the stream's 24 h retention plus any replay window. */
  readonly ttlDays: number;
  readonly now: () => Date;
}

export class DynamoDbEffectMarkers implements EffectMarkers {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #options: Required<DynamoDbEffectMarkersOptions>;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbEffectMarkersOptions) {
    this.#client = client;
    this.#tableName = tableName;
    this.#options = { ...DEFAULT_BATCH_ROUNDS, ...options };
  }

  async read(effectIds: readonly string[]): Promise<Map<string, EffectMarker>> {
    const items = await batchGetByKey(
      this.#client,
      { tableName: this.#tableName, keyName: 'effectId', ids: effectIds },
      this.#options,
      (unprocessed) => new EffectMarkersUnavailableError('read', unprocessed),
    );
    return new Map([...items].map(([effectId, item]) => [effectId, markerFromItem(item)]));
  }

  async write(markers: readonly EffectMarker[]): Promise<void> {
    const expiresAt = Math.floor(this.#options.now().getTime() / 1000) + this.#options.ttlDays * 86_400;
    await forEachBounded(chunksOf(markers, BATCH_WRITE_LIMIT), CHUNKS_IN_FLIGHT, async (chunk) => {
      const requests = chunk.map((marker) => ({ PutRequest: { Item: { ...marker, expiresAt } } }));
      await inRounds(
        requests,
        this.#options,
        async (left) => {
          const output = await this.#client.send(
            new BatchWriteCommand({ RequestItems: { [this.#tableName]: [...left] } }),
          );
          return (output.UnprocessedItems?.[this.#tableName] ?? []) as typeof requests;
        },
        (left) => {
          throw new EffectMarkersUnavailableError('write', left.length);
        },
      );
    });
  }
}

function markerFromItem(item: Record<string, unknown>): EffectMarker {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    effectId: item.effectId as string,
    dispatched: item.dispatched === true,
    dispatchedAt: text(item.dispatchedAt),
    announced: item.announced === true,
    announcedAt: text(item.announcedAt),
    statusProjected: item.statusProjected === true,
    statusProjectedAt: text(item.statusProjectedAt),
  };
}
