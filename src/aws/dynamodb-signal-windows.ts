/**
 * Signal windows on DynamoDB: items `window#…` of `ProviderHealth-<Stage>` (partition key `pk`).
 *
 *   window#shard#<provider>#<model>#<start>#<shard>  { "c:<counter>": n, … }  one window's counter shard
 *   window#seen#<key>                                { }                      a signal's dedupe marker
 *   window#closed#<provider>#<model>#<start>         { counts, … }            a closed window (immutable)
 *   window#summary#<provider>#<model>                { open: {starts}, "w:<start>": counts, … }
 *
 * Every item carries `expiresAt` (TTL, WINDOW_RETENTION_SEC after its window).
 *
 * Ingesting a signal is ONE TransactWriteItems of two writes: put the dedupe marker if absent, and
 * an unconditional `ADD` of the signal's counters to one of the window's WINDOW_SHARDS shards. A
 * redelivery fails the marker's condition and adds nothing; the two cannot come apart (a crash
 * between a marker and its counts would lose the signal, counts without a marker would double it).
 * The shard is a hash of the signal's key, so a pair's writes spread over 16 items and no item is
 * hot (docs/ARCHITECTURE.md, "Signal windows"). The first signal a container sees for a window also
 * lists the window in the pair's summary (`ADD open`, idempotent), so closers know what to close.
 *
 * Closing reads the shards (one consistent BatchGetItem), puts the closed record if absent (the
 * same sums whoever closes it), then moves the window from `open` into the summary's `w:<start>`
 * attributes, dropping the oldest beyond `keep`. A router reads every pair's summary in one
 * BatchGetItem behind a cache (src/provider-health/eta-cache.ts).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_BATCH_ROUNDS } from '../batching/in-rounds.ts';
import { RoutingManagerError } from '../errors.ts';
import {
  type ClosedWindow,
  type IngestResult,
  type SignalWindowStore,
  type WindowCounts,
  type WindowFact,
  type WindowPair,
  type WindowRef,
  type WindowSummary,
  windowPairKey,
  windowRefKey,
} from '../ports/signal-windows.ts';
import { batchGetByKey } from './dynamodb-batch-get.ts';

/** Kept beyond a window's end before DynamoDB's TTL removes its items. */
const RETENTION_SEC = 7 * 24 * 3600;
const WINDOW_LENGTH_ATTRIBUTE = 'windowMs';
const COUNTER = 'c:';
const CLOSED_PREFIX = 'w:';
/** Windows a container remembers having listed as open (bounded: oldest forgotten first). */
const REMEMBERED_OPEN = 1_000;

const pairPart = (pair: WindowPair): string => `${pair.provider}#${pair.model ?? '-'}`;
export const windowShardKey = (pair: WindowPair, start: number, shard: number): string =>
  `window#shard#${pairPart(pair)}#${start}#${shard}`;
export const windowSeenKey = (key: string): string => `window#seen#${key}`;
export const windowClosedKey = (pair: WindowPair, start: number): string =>
  `window#closed#${pairPart(pair)}#${start}`;
export const windowSummaryKey = (pair: WindowPair): string => `window#summary#${pairPart(pair)}`;

export class UnreadableSignalWindowsError extends RoutingManagerError {
  constructor(message: string) {
    super('unreadable_signal_windows', message);
    this.name = 'UnreadableSignalWindowsError';
  }
}

const expiresAtOf = (windowEndMs: number): number => Math.ceil(windowEndMs / 1000) + RETENTION_SEC;

/** The counters of an item (`c:<name>` attributes, or a `counts` map), whole numbers only. */
function countsOf(item: Record<string, unknown> | undefined, prefix = COUNTER): Record<string, number> {
  if (!item) return {};
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(prefix) && typeof value === 'number' && Number.isFinite(value)) {
      counts[name.slice(prefix.length)] = value;
    }
  }
  return counts;
}

function mapCounts(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
    ),
  );
}

export class DynamoDbSignalWindows implements SignalWindowStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #windowMs: number;
  /** Windows this container already listed in their summary's `open` set (`<pair>#<start>`). */
  readonly #listed = new Set<string>();

  constructor(client: DynamoDBDocumentClient, table: string, { windowMs }: { windowMs: number }) {
    this.#client = client;
    this.#table = table;
    this.#windowMs = windowMs;
  }

  async ingest(fact: WindowFact): Promise<IngestResult> {
    const windowEndMs = fact.windowStartMs + this.#windowMs;
    const expiresAt = expiresAtOf(windowEndMs);
    await this.#listOpen(fact.pair, fact.windowStartMs, expiresAt);
    const entries = Object.entries(fact.counts);
    try {
      await this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: { pk: windowSeenKey(fact.key), expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.#table,
                Key: { pk: windowShardKey(fact.pair, fact.windowStartMs, fact.shard) },
                UpdateExpression: `SET #expires = :expires ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
                ExpressionAttributeNames: {
                  '#expires': 'expiresAt',
                  ...Object.fromEntries(entries.map(([name], i) => [`#c${i}`, `${COUNTER}${name}`])),
                },
                ExpressionAttributeValues: {
                  ':expires': expiresAt,
                  ...Object.fromEntries(entries.map(([, value], i) => [`:c${i}`, value])),
                },
              },
            },
          ],
        }),
      );
      return 'counted';
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return 'duplicate';
      }
      throw error;
    }
  }

  /** Lists the window in its pair's summary once per container (idempotent: `ADD` to a set). */
  async #listOpen(pair: WindowPair, start: number, expiresAt: number): Promise<void> {
    const listed = `${windowPairKey(pair)}#${start}`;
    if (this.#listed.has(listed)) return;
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: windowSummaryKey(pair) },
        UpdateExpression: 'SET #provider = :provider, #model = :model, #expires = :expires ADD #open :start',
        ExpressionAttributeNames: {
          '#provider': 'provider',
          '#model': 'model',
          '#expires': 'expiresAt',
          '#open': 'open',
        },
        ExpressionAttributeValues: {
          ':provider': pair.provider,
          ':model': pair.model,
          ':expires': expiresAt,
          ':start': new Set([start]),
        },
      }),
    );
    if (this.#listed.size >= REMEMBERED_OPEN) {
      const oldest = this.#listed.values().next().value;
      if (oldest !== undefined) this.#listed.delete(oldest);
    }
    this.#listed.add(listed);
  }

  async readShards(windows: readonly WindowRef[], shards: number): Promise<Map<string, WindowCounts[]>> {
    const idsOf = (window: WindowRef) =>
      Array.from({ length: shards }, (_, shard) => windowShardKey(window.pair, window.windowStartMs, shard));
    const items = await this.#read(windows.flatMap(idsOf));
    return new Map(
      windows.map((window) => [windowRefKey(window), idsOf(window).map((id) => countsOf(items.get(id)))]),
    );
  }

  async storeClosed(window: ClosedWindow, keep: number): Promise<void> {
    const expiresAt = expiresAtOf(window.windowEndMs);
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: windowClosedKey(window.pair, window.windowStartMs),
            id: window.id,
            provider: window.pair.provider,
            model: window.pair.model,
            windowStartMs: window.windowStartMs,
            [WINDOW_LENGTH_ATTRIBUTE]: window.windowEndMs - window.windowStartMs,
            counts: window.counts,
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // Closed before (by another closer, from the same shards): the record stays as it is.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const stored = await this.readClosed(window.pair, window.windowStartMs);
    const counts = stored?.counts ?? window.counts;
    const updated = await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: windowSummaryKey(window.pair) },
        UpdateExpression: 'SET #window = :counts, #provider = :provider, #model = :model DELETE #open :start',
        ExpressionAttributeNames: {
          '#window': `${CLOSED_PREFIX}${window.windowStartMs}`,
          '#provider': 'provider',
          '#model': 'model',
          '#open': 'open',
        },
        ExpressionAttributeValues: {
          ':counts': counts,
          ':provider': window.pair.provider,
          ':model': window.pair.model,
          ':start': new Set([window.windowStartMs]),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const starts = closedStartsOf(updated.Attributes);
    const dropped = starts.slice(0, Math.max(0, starts.length - keep));
    if (dropped.length === 0) return;
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: windowSummaryKey(window.pair) },
        UpdateExpression: `REMOVE ${dropped.map((_, i) => `#d${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(
          dropped.map((start, i) => [`#d${i}`, `${CLOSED_PREFIX}${start}`]),
        ),
      }),
    );
  }

  async readSummaries(pairs: readonly WindowPair[]): Promise<Map<string, WindowSummary>> {
    const items = await this.#read(pairs.map(windowSummaryKey));
    const summaries = new Map<string, WindowSummary>();
    for (const pair of pairs) {
      const item = items.get(windowSummaryKey(pair));
      const windowMs = this.#windowMs;
      const closed = closedStartsOf(item).map(
        (start): ClosedWindow => ({
          id: `${pairPart(pair)}#${start}`,
          pair,
          windowStartMs: start,
          windowEndMs: start + windowMs,
          counts: mapCounts(item?.[`${CLOSED_PREFIX}${start}`]),
        }),
      );
      const open = item?.open instanceof Set ? [...(item.open as Set<unknown>)] : [];
      summaries.set(windowPairKey(pair), {
        pair,
        closed,
        open: open.filter((start): start is number => typeof start === 'number').sort((a, b) => a - b),
      });
    }
    return summaries;
  }

  async readClosed(pair: WindowPair, windowStartMs: number): Promise<ClosedWindow | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: windowClosedKey(pair, windowStartMs) },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const length = typeof Item[WINDOW_LENGTH_ATTRIBUTE] === 'number' ? Item[WINDOW_LENGTH_ATTRIBUTE] : 0;
    return {
      id: String(Item.id),
      pair,
      windowStartMs,
      windowEndMs: windowStartMs + length,
      counts: mapCounts(Item.counts),
    };
  }

  async #read(ids: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    return batchGetByKey(
      this.#client,
      { tableName: this.#table, keyName: 'pk', ids },
      DEFAULT_BATCH_ROUNDS,
      (left) => new UnreadableSignalWindowsError(`${left} signal-window items left unprocessed`),
    );
  }
}

/** The starts of the closed windows a summary item holds, oldest first. */
function closedStartsOf(item: Record<string, unknown> | undefined): number[] {
  if (!item) return [];
  return Object.keys(item)
    .filter((name) => name.startsWith(CLOSED_PREFIX))
    .map((name) => Number(name.slice(CLOSED_PREFIX.length)))
    .filter((start) => Number.isSafeInteger(start))
    .sort((a, b) => a - b);
}
