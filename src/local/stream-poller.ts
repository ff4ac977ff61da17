/**
 * A local stand-in for Lambda's DynamoDB Streams event source mapping, for tests and `npm run local`:
 * reads a table's stream (DescribeStream → GetShardIterator → GetRecords) and delivers batches shaped
 * exactly like the mapping's event, honouring `batchItemFailures` the way Lambda does — checkpoint
 * just before the lowest failed sequence number and redeliver from there; a thrown handler or an
 * unknown item identifier fails the whole batch; after `maxRetryAttempts` the batch is handed to
 * `onFailure` (the on-failure destination) and skipped. Records whose eventName is not in
 * `eventNames` are filtered out like FilterCriteria does: never delivered, but checkpointed past.
 *
 * Batches come from one shard at a time, parents before children, as Lambda processes them.
 * `drain` delivers until the stream is caught up (a batch run); `follow` keeps delivering new records
 * until it is stopped, as the mapping does for a live stack (`npm run local -- --keep`).
 */

import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { RoutingManagerError } from '../errors.ts';
import { aLocalLambdaContext } from './lambda-context.ts';

export type StreamBatchHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;

export interface AbandonedBatch {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly attempts: number;
  /** When the first and last abandoned records reached the stream (Lambda's DDBStreamBatchInfo has the same). */
  readonly approximateArrivalOfFirstRecord: string | null;
  readonly approximateArrivalOfLastRecord: string | null;
}

export interface StreamPollerOptions {
  readonly streamArn: string;
  readonly client?: DynamoDBStreamsClient;
  /** Records per batch (the mapping's BatchSize; template.yaml uses 100). */
  readonly batchSize?: number;
  /** Retries of a failing batch before it is abandoned (the mapping's MaximumRetryAttempts). */
  readonly maxRetryAttempts?: number;
  /** The mapping's FilterCriteria on eventName. */
  readonly eventNames?: readonly string[];
  /** The on-failure destination: receives the metadata of abandoned batches. */
  readonly onFailure?: (batch: AbandonedBatch) => void | Promise<void>;
}

export interface DeliveryResult {
  readonly shardId: string;
  readonly delivered: number;
  readonly failed: number;
  readonly abandoned: AbandonedBatch | null;
}

export interface DrainSummary {
  readonly batches: number;
  readonly delivered: number;
  readonly failed: number;
  readonly abandoned: readonly AbandonedBatch[];
}

export interface FollowOptions {
  /** Ends the loop; the batch in flight is finished first. */
  readonly signal: AbortSignal;
  /** Wait between polls of a caught-up stream (default 200 ms). */
  readonly idleMs?: number;
  /** Told about every batch that delivered records. */
  readonly onDelivery?: (result: DeliveryResult) => void;
  /** Told about a poll that failed (an emulator hiccup); the loop polls again after idleMs. */
  readonly onError?: (error: unknown) => void;
}

/** The stream did not drain in time; the message says how far it got (counts only). */
export class StreamDrainTimeoutError extends RoutingManagerError {
  constructor(message: string) {
    super('stream_drain_timeout', message);
    this.name = 'StreamDrainTimeoutError';
  }
}

interface ReadBatch {
  readonly shardId: string;
  readonly records: readonly StreamRecord[];
  /** Every sequence number read, delivered or filtered out, in order. */
  readonly read: readonly string[];
}

const POLL_INTERVAL_MS = 50;
/** Empty GetRecords pages tolerated on an open shard before it is considered caught up. */
const EMPTY_PAGES_PER_READ = 3;

/** How often `follow` polls a caught-up stream: new records reach the projector within ~0.2 s. */
const FOLLOW_IDLE_MS = 200;

const seq = (value: string): bigint => BigInt(value);

export class DynamoDbStreamPoller {
  readonly #client: DynamoDBStreamsClient;
  readonly #ownsClient: boolean;
  readonly #streamArn: string;
  readonly #batchSize: number;
  readonly #maxRetryAttempts: number;
  readonly #eventNames: ReadonlySet<string>;
  readonly #onFailure: StreamPollerOptions['onFailure'];
  /** Last sequence number processed per shard; absent = TRIM_HORIZON. */
  readonly #checkpoints = new Map<string, string>();
  readonly #attempts = new Map<string, number>();
  /** Closed shards read to their end. */
  readonly #finished = new Set<string>();

  constructor(options: StreamPollerOptions) {
    this.#ownsClient = !options.client;
    this.#client = options.client ?? new DynamoDBStreamsClient({});
    this.#streamArn = options.streamArn;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxRetryAttempts = options.maxRetryAttempts ?? 10;
    this.#eventNames = new Set(options.eventNames ?? ['INSERT']);
    this.#onFailure = options.onFailure;
  }

  /** Back to TRIM_HORIZON: everything the stream retains is delivered again (a replay). */
  rewind(): void {
    this.#checkpoints.clear();
    this.#attempts.clear();
    this.#finished.clear();
  }

  /** Delivers the next batch to `handler`; null when no shard has a new record. */
  async deliverNext(handler: StreamBatchHandler): Promise<DeliveryResult | null> {
    const batch = await this.#readNextBatch();
    if (!batch) return null;
    const { shardId, records, read } = batch;
    const lastRead = read[read.length - 1] as string;
    if (records.length === 0) {
      this.#checkpoints.set(shardId, lastRead);
      return { shardId, delivered: 0, failed: 0, abandoned: null };
    }

    const failedSequence = await this.#invoke(handler, records);
    if (failedSequence === null) {
      this.#checkpoints.set(shardId, lastRead);
      this.#attempts.delete(shardId);
      return { shardId, delivered: records.length, failed: 0, abandoned: null };
    }

    const failed = records.filter((r) => seq(sequenceOf(r)) >= seq(failedSequence)).length;
    const before = read.filter((s) => seq(s) < seq(failedSequence));
    const attemptKey = `${shardId}@${failedSequence}`;
    const attempts = (this.#attempts.get(attemptKey) ?? 0) + 1;
    this.#attempts.set(attemptKey, attempts);
    if (attempts > this.#maxRetryAttempts) {
      const given = records.filter((r) => seq(sequenceOf(r)) >= seq(failedSequence));
      const abandoned: AbandonedBatch = {
        shardId,
        startSequenceNumber: failedSequence,
        endSequenceNumber: lastRead,
        batchSize: failed,
        attempts,
        approximateArrivalOfFirstRecord: arrivalOf(given[0]),
        approximateArrivalOfLastRecord: arrivalOf(given.at(-1)),
      };
      await this.#onFailure?.(abandoned);
      this.#attempts.delete(attemptKey);
      this.#checkpoints.set(shardId, lastRead);
      return { shardId, delivered: records.length, failed, abandoned };
    }
    if (before.length > 0) this.#checkpoints.set(shardId, before[before.length - 1] as string);
    return { shardId, delivered: records.length, failed, abandoned: null };
  }

  /**
   * Delivers batches until the stream has nothing new (and at least `minRecords` were delivered),
   * polling every 50 ms; throws StreamDrainTimeoutError past `timeoutMs`.
   */
  async drain(
    handler: StreamBatchHandler,
    options: { timeoutMs?: number; minRecords?: number } = {},
  ): Promise<DrainSummary> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const minRecords = options.minRecords ?? 0;
    let batches = 0;
    let delivered = 0;
    let failed = 0;
    const abandoned: AbandonedBatch[] = [];
    const summary = () => ({ batches, delivered, failed, abandoned });
    for (;;) {
      const result = await this.deliverNext(handler);
      if (result) {
        if (result.delivered > 0) batches++;
        delivered += result.delivered;
        failed += result.failed;
        if (result.abandoned) abandoned.push(result.abandoned);
      } else if (delivered >= minRecords) {
        return summary();
      }
      if (Date.now() > deadline) {
        throw new StreamDrainTimeoutError(
          `stream not drained within ${timeoutMs} ms (${delivered}/${minRecords} records, ${failed} failed, ` +
            `${abandoned.length} batches abandoned)`,
        );
      }
      if (!result) await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  /**
   * Delivers new records until `signal` aborts, from the current checkpoints on: what `drain` left
   * behind is not delivered again. Resolves once the loop has stopped.
   */
  async follow(handler: StreamBatchHandler, options: FollowOptions): Promise<void> {
    const idleMs = options.idleMs ?? FOLLOW_IDLE_MS;
    while (!options.signal.aborted) {
      let result: DeliveryResult | null = null;
      try {
        result = await this.deliverNext(handler);
      } catch (error) {
        options.onError?.(error);
      }
      if (result && result.delivered > 0) options.onDelivery?.(result);
      // A caught-up stream, a failed poll or a failed batch: wait before polling (and retrying) again;
      // an abort ends the wait early (and the loop then stops).
      if (!result || result.failed > 0)
        await delay(idleMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }

  destroy(): void {
    if (this.#ownsClient) this.#client.destroy();
  }

  /** Returns the lowest failed sequence number, or null when the whole batch succeeded. */
  async #invoke(handler: StreamBatchHandler, records: readonly StreamRecord[]): Promise<string | null> {
    const event: DynamoDBStreamEvent = { Records: records.map((r) => this.#toLambdaRecord(r)) };
    const first = sequenceOf(records[0] as StreamRecord);
    let response: DynamoDBBatchResponse | undefined;
    try {
      response = await handler(event, aLocalLambdaContext('local-stream-consumer'));
    } catch {
      return first;
    }
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return null;
    const delivered = new Set(records.map(sequenceOf));
    let lowest: string | null = null;
    for (const { itemIdentifier } of failures) {
      // Lambda fails the whole batch on an identifier that is empty or not in it.
      if (!itemIdentifier || !delivered.has(itemIdentifier)) return first;
      if (lowest === null || seq(itemIdentifier) < seq(lowest)) lowest = itemIdentifier;
    }
    return lowest;
  }

  async #readNextBatch(): Promise<ReadBatch | null> {
    for (const shard of await this.#shardsInOrder()) {
      const shardId = shard.ShardId as string;
      if (this.#finished.has(shardId)) continue;
      const batch = await this.#readShard(shard);
      if (batch) return batch;
    }
    return null;
  }

  async #readShard(shard: Shard): Promise<ReadBatch | null> {
    const shardId = shard.ShardId as string;
    const checkpoint = this.#checkpoints.get(shardId);
    let iterator = (
      await this.#client.send(
        new GetShardIteratorCommand({
          StreamArn: this.#streamArn,
          ShardId: shardId,
          ...(checkpoint
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator;
    const read: StreamRecord[] = [];
    let emptyPages = 0;
    while (iterator && read.length < this.#batchSize && emptyPages < EMPTY_PAGES_PER_READ) {
      const page = await this.#client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: this.#batchSize - read.length }),
      );
      const records = page.Records ?? [];
      if (records.length === 0) emptyPages++;
      read.push(...records);
      iterator = page.NextShardIterator;
    }
    const shardClosed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    if (!iterator && shardClosed && read.length === 0) this.#finished.add(shardId);
    if (read.length === 0) return null;
    return {
      shardId,
      records: read.filter((r) => this.#eventNames.has(r.eventName as string)),
      read: read.map(sequenceOf),
    };
  }

  async #shardsInOrder(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.#client.send(
        new DescribeStreamCommand({
          StreamArn: this.#streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    // Parents before children: a child's records are newer than all of its parent's.
    const ids = new Set(shards.map((s) => s.ShardId));
    const depth = (shard: Shard): number => {
      const parent = shards.find((s) => s.ShardId === shard.ParentShardId);
      return parent && ids.has(parent.ShardId) ? 1 + depth(parent) : 0;
    };
    return shards
      .map((shard) => ({ shard, depth: depth(shard) }))
      .sort((a, b) => a.depth - b.depth)
      .map(({ shard }) => shard);
  }

  #toLambdaRecord(record: StreamRecord): DynamoDBRecord {
    // Every stream record carries `dynamodb`: its SequenceNumber is what the poller checkpoints on.
    const ddb = record.dynamodb as NonNullable<StreamRecord['dynamodb']>;
    const created = ddb.ApproximateCreationDateTime;
    // A fresh deep copy per delivery: the handler's middlewares mutate the event in place.
    return structuredClone({
      eventID: record.eventID as string,
      eventName: record.eventName as DynamoDBRecord['eventName'],
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: record.awsRegion as string,
      dynamodb: {
        ApproximateCreationDateTime:
          created instanceof Date ? Math.floor(created.getTime() / 1000) : (created as number | undefined),
        Keys: ddb.Keys,
        NewImage: ddb.NewImage,
        SequenceNumber: ddb.SequenceNumber,
        SizeBytes: ddb.SizeBytes,
        StreamViewType: ddb.StreamViewType,
      },
      eventSourceARN: this.#streamArn,
    }) as DynamoDBRecord;
  }
}

const sequenceOf = (record: StreamRecord): string => record.dynamodb?.SequenceNumber as string;

function arrivalOf(record: StreamRecord | undefined): string | null {
  const created = record?.dynamodb?.ApproximateCreationDateTime;
  if (created instanceof Date) return created.toISOString();
  return typeof created === 'number' ? new Date(created * 1000).toISOString() : null;
}
