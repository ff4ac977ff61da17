/**
 * Provider health on DynamoDB: `ProviderHealth-<Stage>`, partition key `pk` only.
 *
 *   breaker#<provider>[#<model>]  { rev, state, updatedAt }   one item per breaker
 *   signal#<eventId>              { expiresAt }                dedupe marker (TTL)
 *
 * A commit is one TransactWriteItems: put the marker if absent, put the breaker if its `rev` is the
 * one read, and append each transition to the routing log if its version is free. Ingesting a
 * signal therefore costs one strongly consistent GetItem and one transaction of 2–4 small items; a
 * duplicate fails the marker's condition and changes nothing. A router reads every breaker it may
 * need in one BatchGetItem, behind a cache (src/provider-health/health-cache.ts).
 *
 *   tally#<breakerKey>#<bucketStart>#<shard>  { successes, expiresAt }   the success tally
 *
 * A success that is not a probe's never touches its breaker: it is one TransactWriteItems of its
 * marker (conditional) and an unconditional `ADD` on one tally item (src/provider-health/success-tally.ts);
 * a batch of successes shares one transaction (≤ 100 items: markers plus one ADD per item touched).
 */

import { setTimeout as delay } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { RoutingManagerError, VersionConflictError } from '../errors.ts';
import type { BreakerState } from '../log/health-records.ts';
import { healthChangedRecord } from '../log/routing-records.ts';
import { storedItemOf } from '../log/stored-records.ts';
import type {
  BreakerCommit,
  BreakerRef,
  CommitResult,
  ProviderHealthStore,
  StoredBreaker,
  TallyEntry,
  TallyResult,
} from '../ports/provider-health-store.ts';
import { breakerKey, initialBreakerState, type TallyReading } from '../provider-health/breaker.ts';
import { SUCCESS_SHARDS, tallyItemKey, tallyShard } from '../provider-health/success-tally.ts';

export const breakerItemKey = (key: string): string => `breaker#${key}`;
export const signalItemKey = (signalId: string): string => `signal#${signalId}`;

/** BatchGetItem takes at most 100 keys; unprocessed keys are asked again a bounded number of times. */
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ROUNDS = 3;

/** How long a signal's dedupe marker is kept: beyond EventBridge's 24 h retry window. */
export const SIGNAL_MARKER_TTL_SECONDS = 7 * 24 * 3600;

/** TransactWriteItems takes at most 100 items. */
const TRANSACTION_ITEMS = 100;
/** Rounds of a tally transaction that keeps meeting another one on the same counter item. */
const TALLY_ROUNDS = 8;
/** A tally item outlives its bucket by a day: a reader never reads further back than the window. */
const TALLY_TTL_SECONDS = 24 * 3600;

/** The success tally stayed contended for TALLY_ROUNDS transactions: retry the signal later. */
export class TallyContendedError extends RoutingManagerError {
  constructor() {
    super('tally_contended', `success tally: transaction conflicts for ${TALLY_ROUNDS} rounds`);
    this.name = 'TallyContendedError';
  }
}

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

export class DynamoDbProviderHealthStore implements ProviderHealthStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #healthTable: string;
  readonly #logTable: string;

  constructor(client: DynamoDBDocumentClient, tables: { health: string; log: string }) {
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

  async commit(change: BreakerCommit): Promise<CommitResult> {
    const marker =
      change.signalId === null
        ? []
        : [
            {
              Put: {
                TableName: this.#healthTable,
                Item: {
                  pk: signalItemKey(change.signalId),
                  expiresAt: Math.floor(Date.parse(change.at) / 1000) + SIGNAL_MARKER_TTL_SECONDS,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ];
    const breaker = {
      Put: {
        TableName: this.#healthTable,
        Item: {
          pk: breakerItemKey(change.state.key),
          rev: change.expectedRev + 1,
          state: change.state,
          updatedAt: change.at,
        },
        ...(change.expectedRev === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': change.expectedRev } }),
      },
    };
    const records = change.transitions.map((transition) => ({
      Put: {
        TableName: this.#logTable,
        // The one record-to-item mapping of the routing log (src/log/stored-records.ts).
        Item: storedItemOf(healthChangedRecord(transition)),
        ConditionExpression: 'attribute_not_exists(#stream)',
        ExpressionAttributeNames: { '#stream': 'stream' },
      },
    }));
    try {
      await this.#client.send(new TransactWriteCommand({ TransactItems: [...marker, breaker, ...records] }));
      return 'committed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (marker.length > 0 && reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
      // Another writer moved the breaker (or is moving it right now): read again and retry.
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
        throw new VersionConflictError(`breaker#${change.state.key}`, change.expectedRev + 1, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async tallySuccesses(entries: readonly TallyEntry[]): Promise<TallyResult> {
    const seen = new Set<string>();
    const unique: TallyEntry[] = [];
    const duplicates: string[] = [];
    for (const entry of entries) {
      if (seen.has(entry.signalId)) duplicates.push(entry.signalId);
      else {
        seen.add(entry.signalId);
        unique.push(entry);
      }
    }
    const counted: string[] = [];
    for (const chunk of tallyChunks(unique)) {
      const result = await this.#tallyChunk(chunk);
      counted.push(...result.counted);
      duplicates.push(...result.duplicates);
    }
    return { counted, duplicates };
  }

  async #tallyChunk(chunk: readonly TallyEntry[]): Promise<TallyResult> {
    let pending = [...chunk];
    const duplicates: string[] = [];
    for (let round = 0; pending.length > 0; round++) {
      if (round === TALLY_ROUNDS) throw new TallyContendedError();
      const adds = tallyAdds(pending);
      const markers = pending.map((entry) => ({
        Put: {
          TableName: this.#healthTable,
          Item: {
            pk: signalItemKey(entry.signalId),
            expiresAt: Math.floor(Date.parse(entry.at) / 1000) + SIGNAL_MARKER_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      }));
      const updates = [...adds].map(([pk, add]) => ({
        Update: {
          TableName: this.#healthTable,
          Key: { pk },
          UpdateExpression: 'ADD successes :n SET expiresAt = :expires',
          ExpressionAttributeValues: {
            ':n': add.count,
            ':expires': Math.floor(add.bucketStart / 1000) + TALLY_TTL_SECONDS,
          },
        },
      }));
      try {
        await this.#client.send(new TransactWriteCommand({ TransactItems: [...markers, ...updates] }));
        return { counted: pending.map((entry) => entry.signalId), duplicates };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        // A marker that exists: that signal was tallied before; the rest go again without it.
        const found = new Set(
          pending.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed').map((e) => e.signalId),
        );
        const conflicted = reasons.some((r) => r.Code === 'TransactionConflict');
        if (found.size === 0 && !conflicted) throw error;
        duplicates.push(...found);
        pending = pending.filter((entry) => !found.has(entry.signalId));
        // Another transaction held a counter item: wait a little, half of it random, and go again.
        if (conflicted) await delay(Math.min(200, 5 * 2 ** round) * (0.5 + Math.random() / 2));
      }
    }
    return { counted: [], duplicates };
  }

  async readTally(key: string, bucketStarts: readonly number[]): Promise<TallyReading[]> {
    const sums = new Map<number, number>(bucketStarts.map((start) => [start, 0]));
    const keys = [...sums.keys()].flatMap((start) =>
      Array.from({ length: SUCCESS_SHARDS }, (_, shard) => ({ pk: tallyItemKey(key, start, shard), start })),
    );
    const startOf = new Map(keys.map((k) => [k.pk, k.start]));
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_LIMIT).map(({ pk }) => ({ pk }));
      for (let round = 0; pending.length > 0; round++) {
        if (round === BATCH_GET_ROUNDS) throw new UnreadableProviderHealthError('tally left unprocessed');
        const response = await this.#client.send(
          new BatchGetCommand({
            RequestItems: { [this.#healthTable]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        for (const item of (response.Responses?.[this.#healthTable] ?? []) as TallyItem[]) {
          const start = startOf.get(item.pk);
          if (start !== undefined) sums.set(start, (sums.get(start) ?? 0) + Number(item.successes ?? 0));
        }
        pending = (response.UnprocessedKeys?.[this.#healthTable]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return [...sums].map(([start, successes]) => ({ start, successes }));
  }
}

interface TallyItem {
  readonly pk: string;
  readonly successes?: number;
}

/**
 * One ADD per breaker and bucket of a transaction, on the shard of the first signal the
 * transaction holds for it. Exactly-once comes from the markers in the same transaction, so any
 * shard is correct; the first signal's hash spreads transactions over the shards, and a batch pays
 * one counter write per breaker and bucket instead of one per signal.
 */
function tallyAdds(entries: readonly TallyEntry[]): Map<string, { count: number; bucketStart: number }> {
  const shardOf = new Map<string, string>();
  const adds = new Map<string, { count: number; bucketStart: number }>();
  for (const entry of entries) {
    const group = `${entry.key}#${entry.bucketStart}`;
    const pk = shardOf.get(group) ?? tallyItemKey(entry.key, entry.bucketStart, tallyShard(entry.signalId));
    shardOf.set(group, pk);
    const add = adds.get(pk) ?? { count: 0, bucketStart: entry.bucketStart };
    adds.set(pk, { ...add, count: add.count + 1 });
  }
  return adds;
}

/**
 * Splits a batch into transactions of at most TRANSACTION_ITEMS items: each entry's marker, plus one
 * ADD per breaker and bucket the transaction touches.
 */
function tallyChunks(entries: readonly TallyEntry[]): TallyEntry[][] {
  const chunks: TallyEntry[][] = [];
  let chunk: TallyEntry[] = [];
  let items = new Set<string>();
  for (const entry of entries) {
    const pk = `${entry.key}#${entry.bucketStart}`;
    const size = chunk.length + items.size + 1 + (items.has(pk) ? 0 : 1);
    if (size > TRANSACTION_ITEMS) {
      chunks.push(chunk);
      chunk = [];
      items = new Set();
    }
    chunk.push(entry);
    items.add(pk);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
