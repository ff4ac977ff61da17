/**
 * Signal windows on DynamoDB: items `window#…` of `ProviderHealth-<Stage>` (partition key `pk`).
 *
 *   window#facts#<provider>#<model>#<start>#<groupId>  { f: "[[key, counts], …]" }  one fact group
 *   window#groups#<provider>#<model>#<start>#<n>       { g: {groupId, …} }          the window's group index
 *   window#closed#<provider>#<model>#<start>           { counts, … }                a closed window (immutable)
 *   window#summary#<provider>#<model>                  { open: {starts}, "w:<start>": counts, … }
 *
 * Every item carries `expiresAt` (TTL, WINDOW_RETENTION_SEC after its window).
 *
 * Ingesting a batch writes each of its fact groups (src/provider-health/signal-windows.ts,
 * `factGroups`: one per window, split by bytes) as ONE PutItem and, side by side, adds the group's
 * id to one of the window's GROUP_INDEX_SHARDS index items (`ADD`, a string set, idempotent). No
 * condition, no transaction, no read: a batch of 99 signals of one pair costs two writes, not 99
 * transactions. Exactly once is the reader's job: closing a window reads its index, then its
 * groups, and folds the facts counting each key once (`foldFacts`). A redelivered batch rewrites
 * the same group (its id is the hash of its sorted keys), a differently composed one writes another
 * group whose keys are counted once anyway; a crash between the two writes leaves a group no one
 * reads or an id with no group (read as no facts), which the redelivery repairs either way. The
 * first group a container writes for a window also lists the window
 * in the pair's summary (`ADD open`, idempotent), so closers know what to close.
 *
 * Closing reads the window (index, then groups: consistent BatchGetItems), puts the closed record
 * if absent (the same sums whoever closes it), then moves the window from `open` into the summary's
 * `w:<start>` attributes, dropping the oldest beyond `keep`. A router reads every pair's summary in
 * one BatchGetItem behind a cache (src/provider-health/eta-cache.ts).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CHUNKS_IN_FLIGHT } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { DEFAULT_BATCH_ROUNDS } from '../batching/in-rounds.ts';
import { RoutingManagerError } from '../errors.ts';
import { fnv1a } from '../log/fnv1a.ts';
import {
  type ClosedWindow,
  type SignalWindowStore,
  type WindowCounts,
  type WindowFact,
  type WindowPair,
  type WindowRef,
  type WindowSummary,
  windowPairKey,
  windowRefKey,
} from '../ports/signal-windows.ts';
import { type FactGroup, factGroups, foldFacts, parseFacts } from '../provider-health/signal-windows.ts';
import { batchGetByKey } from './dynamodb-batch-get.ts';

/**
 * Index items per window. An ADD costs the item's whole size in WCU, and a window's index takes one
 * id (16 characters) per group, so the ids are spread over 128 items: at 10,000 single-signal
 * groups/s of one pair an item ends a window at ~13 KB (≈ 7 WCU per ADD, ≈ 550 WCU/s per item:
 * bench/signals-envelope.ts); a closer reads them in two BatchGetItems.
 */
export const GROUP_INDEX_SHARDS = 128;

/** Kept beyond a window's end before DynamoDB's TTL removes its items. */
const RETENTION_SEC = 7 * 24 * 3600;
const WINDOW_LENGTH_ATTRIBUTE = 'windowMs';
const CLOSED_PREFIX = 'w:';
/** Windows a container remembers having listed as open (bounded: oldest forgotten first). */
const REMEMBERED_OPEN = 1_000;

const pairPart = (pair: WindowPair): string => `${pair.provider}#${pair.model ?? '-'}`;
export const windowFactsKey = (pair: WindowPair, start: number, groupId: string): string =>
  `window#facts#${pairPart(pair)}#${start}#${groupId}`;
/** The index shard a group is listed in: a hash of its id. */
export const groupIndexShard = (groupId: string): number => fnv1a(groupId) % GROUP_INDEX_SHARDS;
export const windowGroupsKey = (pair: WindowPair, start: number, shard: number): string =>
  `window#groups#${pairPart(pair)}#${start}#${shard}`;
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

/** A stored counters map, names in order (as `closeWindow` makes them), whatever order DynamoDB gives. */
function mapCounts(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
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

  async ingest(facts: readonly WindowFact[]): Promise<void> {
    await forEachBounded(factGroups(facts), CHUNKS_IN_FLIGHT, (group) => this.#writeGroup(group));
  }

  /**
   * The group's item and its entry in the window's index, side by side (one round trip, not two).
   * Either may land first: an index entry whose group is not there yet reads as no facts, exactly
   * like a group not listed yet — both are counted once both land, well before the window is due
   * (WINDOW_GRACE_MS); and a batch that fails between them is delivered again and rewrites both
   * (or, composed differently, writes another group holding its keys), so nothing is lost.
   */
  async #writeGroup(group: FactGroup): Promise<void> {
    const { pair, windowStartMs: start } = group;
    const expiresAt = expiresAtOf(start + this.#windowMs);
    await this.#listOpen(pair, start, expiresAt);
    const put = this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { pk: windowFactsKey(pair, start, group.id), f: group.text, expiresAt },
      }),
    );
    const listed = this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: windowGroupsKey(pair, start, groupIndexShard(group.id)) },
        UpdateExpression: 'SET #expires = :expires ADD #groups :group',
        ExpressionAttributeNames: { '#expires': 'expiresAt', '#groups': 'g' },
        ExpressionAttributeValues: { ':expires': expiresAt, ':group': new Set([group.id]) },
      }),
    );
    await Promise.all([put, listed]);
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

  async readWindows(
    windows: readonly WindowRef[],
    { maxGroups = Number.POSITIVE_INFINITY }: { readonly maxGroups?: number } = {},
  ): Promise<Map<string, WindowCounts>> {
    const indexIds = (w: WindowRef) =>
      Array.from({ length: GROUP_INDEX_SHARDS }, (_, n) => windowGroupsKey(w.pair, w.windowStartMs, n));
    const indexes = await this.#read(windows.flatMap(indexIds));
    const groupIds = (w: WindowRef) =>
      indexIds(w).flatMap((id) => {
        const set = indexes.get(id)?.g;
        return set instanceof Set ? [...(set as Set<unknown>)].filter((g) => typeof g === 'string') : [];
      }) as string[];
    const groupsOf = new Map(
      windows.map((w) => [
        windowRefKey(w),
        groupIds(w)
          .sort()
          .slice(0, maxGroups)
          .map((g) => windowFactsKey(w.pair, w.windowStartMs, g)),
      ]),
    );
    const items = await this.#read([...groupsOf.values()].flat());
    return new Map(
      windows.map((w) => {
        const facts = (groupsOf.get(windowRefKey(w)) ?? []).flatMap((id) => {
          const text = items.get(id)?.f;
          return typeof text === 'string' ? parseFacts(text) : [];
        });
        return [windowRefKey(w), foldFacts(facts)];
      }),
    );
  }

  async storeClosed(window: ClosedWindow, keep: number): Promise<ClosedWindow> {
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
    // The record that stays (ours, or the first closer's): the summary and the caller take its sums.
    const stored = (await this.readClosed(window.pair, window.windowStartMs)) ?? window;
    const counts = stored.counts;
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
    if (dropped.length === 0) return stored;
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
    return stored;
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
