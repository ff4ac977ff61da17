/**
 * Provider health on DynamoDB: `ProviderHealth-<Stage>`, partition key `pk` only.
 *
 *   breaker#<provider>[#<model>]  { rev, state, updatedAt }   one item per breaker
 *   signal#<signalId>             { expiresAt }                dedupe marker (TTL)
 *
 * An append to a breaker's stream (src/log/breaker-records.ts) is one TransactWriteItems over the
 * items it always had: each HealthSignalCounted a marker put if absent, the BreakerStateRecorded the
 * breaker put if its `rev` is the expected version, each ProviderHealthChanged a routing-log item put
 * if its version is free. So items already in the tables are read and refused exactly as before. A
 * cancelled transaction is a VersionConflictError carrying what it found: the markers that exist
 * (signals counted before) and, when the breaker had moved, the breaker (returned with the refusal,
 * `ReturnValuesOnConditionCheckFailure`). Ingesting a signal therefore costs one strongly
 * consistent read and one transaction of 2–4 small items. A router reads every breaker it may need
 * in one BatchGetItem, behind a cache (src/provider-health/health-cache.ts).
 * Failures a newer success of their batch broke append only their markers (`ANY_VERSION`: one
 * TransactWriteItems of the markers alone, each put if absent, no breaker item), so they never race
 * other batches for the breaker, and a refusal leaves none of them written: its cancellation
 * reasons name the markers that exist, and the VersionConflictError names exactly those signals.
 *
 *   success#<breakerKey>#<n>  { at, expiresAt }   the success register (16 shards): the newest success's event time
 *
 * A success that is not a probe's never touches its breaker: a batch raises each breaker's
 * register once (`SET at = :at` if absent or older: a max, commutative and idempotent, so it needs
 * no dedupe marker), and a failure reads it before deciding (src/provider-health/breaker.ts).
 */

import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CHUNKS_IN_FLIGHT } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { DEFAULT_BATCH_ROUNDS } from '../batching/in-rounds.ts';
import { RoutingManagerError, VersionConflictError } from '../errors.ts';
import { BreakerStreamAppends, type BreakerWrite, type MarkersWrite } from '../log/breaker-records.ts';
import type { BreakerState } from '../log/health-records.ts';
import { storedItemOf } from '../log/stored-records.ts';
import type {
  BreakerConflict,
  BreakerRef,
  ProviderHealthStore,
  StoredBreaker,
  SuccessEntry,
} from '../ports/provider-health-store.ts';
import {
  breakerKey,
  initialBreakerState,
  newestSuccesses,
  SUCCESS_REGISTER_SHARDS,
  successRegisterShard,
} from '../provider-health/breaker.ts';
import { batchGetByKey } from './dynamodb-batch-get.ts';

export const breakerItemKey = (key: string): string => `breaker#${key}`;
export const signalItemKey = (signalId: string): string => `signal#${signalId}`;
export const successRegisterKey = (key: string, shard: number): string => `success#${key}#${shard}`;

/** BatchGetItem takes at most 100 keys; unprocessed keys are asked again a bounded number of times. */
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ROUNDS = 3;

/** How long a signal's dedupe marker is kept: beyond EventBridge's 24 h retry window. */
export const SIGNAL_MARKER_TTL_SECONDS = 7 * 24 * 3600;

/** A success register outlives its last success by a day: only a failure soon after reads it. */
const REGISTER_TTL_SECONDS = 24 * 3600;

export class UnreadableProviderHealthError extends RoutingManagerError {
  constructor(message: string) {
    super('unreadable_provider_health', message);
    this.name = 'UnreadableProviderHealthError';
  }
}

interface BreakerItem {
  readonly pk: string;
  readonly rev: number;
  readonly state: BreakerState;
}

export class DynamoDbProviderHealthStore extends BreakerStreamAppends implements ProviderHealthStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #healthTable: string;
  readonly #logTable: string;

  constructor(client: DynamoDBDocumentClient, tables: { health: string; log: string }) {
    super();
    this.#client = client;
    this.#healthTable = tables.health;
    this.#logTable = tables.log;
  }

  async load(ref: BreakerRef): Promise<StoredBreaker> {
    const key = breakerKey(ref.provider, ref.model);
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#healthTable,
        Key: { pk: breakerItemKey(key) },
        ConsistentRead: true,
      }),
    );
    if (!Item) return { state: initialBreakerState(ref.provider, ref.model), rev: 0 };
    const item = Item as BreakerItem;
    return { state: item.state, rev: item.rev };
  }

  async readMany(refs: readonly BreakerRef[]): Promise<Map<string, StoredBreaker>> {
    const found = new Map<string, StoredBreaker>();
    const keys = [...new Set(refs.map((ref) => breakerItemKey(breakerKey(ref.provider, ref.model))))];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_LIMIT).map((pk) => ({ pk }));
      for (let round = 0; pending.length > 0; round++) {
        if (round === BATCH_GET_ROUNDS) throw new UnreadableProviderHealthError('breakers left unprocessed');
        const response = await this.#client.send(
          new BatchGetCommand({ RequestItems: { [this.#healthTable]: { Keys: pending } } }),
        );
        for (const item of (response.Responses?.[this.#healthTable] ?? []) as BreakerItem[]) {
          found.set(item.state.key, { state: item.state, rev: item.rev });
        }
        pending = (response.UnprocessedKeys?.[this.#healthTable]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /**
   * One TransactWriteItems of the markers alone, each put if absent (≤ TRANSACT_WRITE_MAX_ITEMS,
   * checked before): all written or none. A refusal names the signals whose marker exists.
   */
  protected async markIfUncounted(write: MarkersWrite): Promise<void> {
    try {
      await this.#client.send(
        new TransactWriteCommand({ TransactItems: write.signals.map((signal) => this.#markerPut(signal)) }),
      );
    } catch (error) {
      const reasons = raceReasons(error);
      const counted = write.signals
        .filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed')
        .map((s) => s.signalId);
      const existing: BreakerConflict = { breaker: null, counted };
      throw new VersionConflictError(write.stream, null, { cause: error, existing });
    }
  }

  #markerPut({ signalId, at }: { readonly signalId: string; readonly at: string }) {
    return {
      Put: {
        TableName: this.#healthTable,
        Item: markerItem(signalId, at),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** One TransactWriteItems: each marker if absent, the breaker if at its `rev`, each transition if free. */
  protected async writeIfExpected(write: BreakerWrite): Promise<void> {
    const markers = write.signals.map((signal) => this.#markerPut(signal));
    const breaker = {
      Put: {
        TableName: this.#healthTable,
        Item: {
          pk: breakerItemKey(write.key),
          rev: write.expectedRev + 1,
          state: write.state,
          updatedAt: write.at,
        },
        ...(write.expectedRev === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': write.expectedRev } }),
        // A moved breaker comes back with the refusal: the retry decides on it without reading it.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
    const transitions = write.transitions.map((record) => ({
      Put: {
        TableName: this.#logTable,
        // The one record-to-item mapping of the routing log (src/log/stored-records.ts).
        Item: storedItemOf(record),
        ConditionExpression: 'attribute_not_exists(#stream)',
        ExpressionAttributeNames: { '#stream': 'stream' },
      },
    }));
    try {
      await this.#client.send(
        new TransactWriteCommand({ TransactItems: [...markers, breaker, ...transitions] }),
      );
    } catch (error) {
      const reasons = raceReasons(error);
      const counted = write.signals
        .filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed')
        .map((s) => s.signalId);
      const moved = reasons[write.signals.length]?.Item;
      const item = moved ? (unmarshall(moved as never) as Partial<BreakerItem>) : undefined;
      const existing: BreakerConflict = {
        breaker: item?.state && typeof item.rev === 'number' ? { state: item.state, rev: item.rev } : null,
        counted,
      };
      throw new VersionConflictError(write.stream, write.expectedRev + 1, { cause: error, existing });
    }
  }

  async raiseSuccessRegisters(entries: readonly SuccessEntry[]): Promise<void> {
    await forEachBounded(newestSuccesses(entries), CHUNKS_IN_FLIGHT, async ({ key, at, signalId }) => {
      try {
        await this.#client.send(
          new UpdateCommand({
            TableName: this.#healthTable,
            Key: { pk: successRegisterKey(key, successRegisterShard(signalId)) },
            UpdateExpression: 'SET #at = :at, #expires = :expires',
            ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
            ExpressionAttributeNames: { '#at': 'at', '#expires': 'expiresAt' },
            ExpressionAttributeValues: {
              ':at': at,
              ':expires': Math.floor(Date.parse(at) / 1000) + REGISTER_TTL_SECONDS,
            },
          }),
        );
      } catch (error) {
        // The register already holds this time or a newer one: the max is unchanged.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  async readForSignals(refs: readonly BreakerRef[], registerKeys: readonly string[]) {
    const breakerIds = [...new Set(refs.map((ref) => breakerItemKey(breakerKey(ref.provider, ref.model))))];
    const items = await this.#readConsistent([...breakerIds, ...registerKeys.flatMap(registerShardKeys)]);
    const breakers = new Map<string, StoredBreaker>();
    for (const id of breakerIds) {
      const item = items.get(id) as BreakerItem | undefined;
      if (item) breakers.set(item.state.key, { state: item.state, rev: item.rev });
    }
    return { breakers, registers: new Map(registerKeys.map((key) => [key, newestOf(items, key)])) };
  }

  async readSuccessRegister(key: string): Promise<string | null> {
    return newestOf(await this.#readConsistent(registerShardKeys(key)), key);
  }

  /** Strongly consistent BatchGetItems of these items of the health table, by `pk`. */
  #readConsistent(ids: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    return batchGetByKey(
      this.#client,
      { tableName: this.#healthTable, keyName: 'pk', ids },
      DEFAULT_BATCH_ROUNDS,
      (left) => new UnreadableProviderHealthError(`${left} provider-health items left unprocessed`),
    );
  }
}

/**
 * A cancelled transaction's reasons, one per item, when it lost a race: a refused condition, or
 * another transaction on one of its items right now — to decide again on what was found. Anything
 * else (a validation error, a throttle) is no race and is thrown as it is.
 */
function raceReasons(error: unknown): NonNullable<TransactionCanceledException['CancellationReasons']> {
  if (!(error instanceof TransactionCanceledException)) throw error;
  const reasons = error.CancellationReasons ?? [];
  if (!reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
    throw error;
  }
  return reasons;
}

/** A signal's dedupe marker: kept (TTL) a while after the signal's own time. */
const markerItem = (signalId: string, at: string) => ({
  pk: signalItemKey(signalId),
  expiresAt: Math.floor(Date.parse(at) / 1000) + SIGNAL_MARKER_TTL_SECONDS,
});

const registerShardKeys = (key: string): string[] =>
  Array.from({ length: SUCCESS_REGISTER_SHARDS }, (_, n) => successRegisterKey(key, n));

/** A register's value: the newest `at` among its shards' items (read with `items`), or null. */
function newestOf(items: ReadonlyMap<string, Record<string, unknown>>, key: string): string | null {
  let newest: string | null = null;
  for (const id of registerShardKeys(key)) {
    const at = items.get(id)?.at;
    if (typeof at === 'string' && (newest === null || at > newest)) newest = at;
  }
  return newest;
}
