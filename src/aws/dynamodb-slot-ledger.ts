/**
 * The slot ledger on DynamoDB: items `slots#<provider>#<shard>` of `ProviderHealth-<Stage>`.
 *
 *   slots#fal#0  { n: 2, "h#<dispatchId>": <expiresAtMs>, "h#<dispatchId>": <expiresAtMs> }
 *
 *   slots#fal#0  { …, w: 1, "w#<jobId>": <sinceMs> }   (jobs held for fal, waiting for a slot)
 *
 * A take is one UpdateItem — `SET h#<id> = :expires ADD n 1` if this dispatch holds nothing there
 * and `n < capacity` — so the count and the holders change together, atomically, on the server:
 * no read-modify-write, no version to conflict on, whatever the number of routers. A refused take
 * returns the item (ReturnValuesOnConditionCheckFailure: ALL_OLD): if this dispatch already holds
 * a slot there it is `already_held`; if some holder's expiry passed (a lost completion), those
 * holders are removed — each conditional on the expiry read, so a holder renewed meanwhile stays —
 * and the take is tried once more. A release is the mirror UpdateItem, conditional on the holder.
 *
 * The waiting line lives on the same item, so a new arrival learns that jobs are held without
 * another read: its take is also conditional on `w < 1`, and a held job's own take (`waitingJobId`)
 * skips that condition. Waiting and leaving are the same pattern: one attribute and one counter
 * changed together, conditional on the attribute.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RoutingManagerError } from '../errors.ts';
import {
  inLineOrder,
  MAX_WAITING_PER_PROVIDER,
  type SlotHolder,
  type SlotLedger,
  type SlotShardRef,
  type SlotTake,
  type SlotTakeResult,
  slotShardKey,
  type WaitingJob,
} from '../ports/slot-ledger.ts';

export const slotItemKey = (ref: SlotShardRef): string => `slots#${ref.provider}#${ref.shard}`;
const HOLDER_PREFIX = 'h#';
const WAITING_PREFIX = 'w#';

/** The jobs waiting on a shard item, oldest first. */
export function waitingOf(item: Record<string, unknown> | undefined): WaitingJob[] {
  if (!item) return [];
  return inLineOrder(
    Object.entries(item)
      .filter(([name, value]) => name.startsWith(WAITING_PREFIX) && typeof value === 'number')
      .map(([name, value]) => ({ jobId: name.slice(WAITING_PREFIX.length), sinceMs: value as number })),
  );
}

const BATCH_GET_LIMIT = 100;
const BATCH_GET_ROUNDS = 3;

export class UnreadableSlotLedgerError extends RoutingManagerError {
  constructor(message: string) {
    super('unreadable_slot_ledger', message);
    this.name = 'UnreadableSlotLedgerError';
  }
}

/** The holders of a shard item, expired ones included. */
export function holdersOf(item: Record<string, unknown> | undefined): SlotHolder[] {
  if (!item) return [];
  return Object.entries(item)
    .filter(([name, value]) => name.startsWith(HOLDER_PREFIX) && typeof value === 'number')
    .map(([name, value]) => ({ dispatchId: name.slice(HOLDER_PREFIX.length), expiresAtMs: value as number }));
}

export class DynamoDbSlotLedger implements SlotLedger {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(client: DynamoDBDocumentClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async take(ref: SlotShardRef, request: SlotTake): Promise<SlotTakeResult> {
    // At most one sweep: after it, a shard still full is full.
    for (let attempt = 0; ; attempt++) {
      const refused = await this.#tryTake(ref, request);
      if (refused === undefined) return 'taken';
      const holders = holdersOf(refused);
      if (holders.some((holder) => holder.dispatchId === request.dispatchId)) return 'already_held';
      // Refused because jobs wait (and slots may be free): sweeping would not help this taker.
      if (request.waitingJobId === undefined && waitingOf(refused).length > 0) return 'full';
      const expired = holders.filter((holder) => holder.expiresAtMs <= request.atMs);
      if (expired.length === 0 || attempt === 1) return 'full';
      await this.#sweep(ref, expired);
    }
  }

  /** undefined when taken; the item as it stood when the condition refused the take. */
  async #tryTake(ref: SlotShardRef, request: SlotTake): Promise<Record<string, unknown> | undefined> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: slotItemKey(ref) },
          UpdateExpression: 'SET #holder = :expires ADD #n :one',
          ConditionExpression: [
            'attribute_not_exists(#holder)',
            ...(request.force ? [] : ['(attribute_not_exists(#n) OR #n < :capacity)']),
            ...(request.force || request.waitingJobId !== undefined
              ? []
              : ['(attribute_not_exists(#w) OR #w < :one)']),
          ].join(' AND '),
          ExpressionAttributeNames: {
            '#holder': `${HOLDER_PREFIX}${request.dispatchId}`,
            '#n': 'n',
            ...(request.force || request.waitingJobId !== undefined ? {} : { '#w': 'w' }),
          },
          ExpressionAttributeValues: {
            ':expires': request.expiresAtMs,
            ':one': 1,
            ...(request.force ? {} : { ':capacity': request.capacity }),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error.Item ? unmarshall(error.Item) : {};
      throw error;
    }
  }

  /** Removes expired holders, each only if its expiry is still the one read (not renewed meanwhile). */
  async #sweep(ref: SlotShardRef, expired: readonly SlotHolder[]): Promise<void> {
    const names = Object.fromEntries(
      expired.map((holder, i) => [`#e${i}`, `${HOLDER_PREFIX}${holder.dispatchId}`]),
    );
    const values = Object.fromEntries(expired.map((holder, i) => [`:e${i}`, holder.expiresAtMs]));
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: slotItemKey(ref) },
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')} ADD #n :minus`,
          ConditionExpression: expired.map((_, i) => `#e${i} = :e${i}`).join(' AND '),
          ExpressionAttributeNames: { ...names, '#n': 'n' },
          ExpressionAttributeValues: { ...values, ':minus': -expired.length },
        }),
      );
    } catch (error) {
      // Another router swept (or a completion released) them first: the next take reads the result.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async release(ref: SlotShardRef, dispatchId: string): Promise<'released' | 'not_held'> {
    return (await this.#removeEntry(ref, `${HOLDER_PREFIX}${dispatchId}`, 'n')) ? 'released' : 'not_held';
  }

  /**
   * Removes one entry of a shard item (a holder, or a waiting job) and takes one from the item's
   * counter of them (`n`, `w`) in the same write; false when the entry is not there (idempotent).
   */
  async #removeEntry(ref: SlotShardRef, entry: string, counter: 'n' | 'w'): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: slotItemKey(ref) },
          UpdateExpression: 'REMOVE #entry ADD #count :minus',
          ConditionExpression: 'attribute_exists(#entry)',
          ExpressionAttributeNames: { '#entry': entry, '#count': counter },
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async wait(ref: SlotShardRef, job: WaitingJob): Promise<'waiting' | 'already_waiting' | 'line_full'> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: slotItemKey(ref) },
          UpdateExpression: 'SET #entry = :since ADD #w :one',
          ConditionExpression: 'attribute_not_exists(#entry) AND (attribute_not_exists(#w) OR #w < :max)',
          ExpressionAttributeNames: { '#entry': `${WAITING_PREFIX}${job.jobId}`, '#w': 'w' },
          ExpressionAttributeValues: { ':since': job.sinceMs, ':one': 1, ':max': MAX_WAITING_PER_PROVIDER },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'waiting';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item ? unmarshall(error.Item) : {};
      return waitingOf(item).some((waiting) => waiting.jobId === job.jobId) ? 'already_waiting' : 'line_full';
    }
  }

  async leave(ref: SlotShardRef, jobId: string): Promise<'left' | 'not_waiting'> {
    return (await this.#removeEntry(ref, `${WAITING_PREFIX}${jobId}`, 'w')) ? 'left' : 'not_waiting';
  }

  async waiting(ref: SlotShardRef): Promise<readonly WaitingJob[]> {
    const response = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: { pk: slotItemKey(ref) }, ConsistentRead: true }),
    );
    return waitingOf(response.Item);
  }

  async read(refs: readonly SlotShardRef[]): Promise<Map<string, readonly SlotHolder[]>> {
    const found = new Map<string, readonly SlotHolder[]>();
    const byKey = new Map(refs.map((ref) => [slotItemKey(ref), ref]));
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_LIMIT).map((pk) => ({ pk }));
      for (let round = 0; pending.length > 0; round++) {
        if (round === BATCH_GET_ROUNDS) throw new UnreadableSlotLedgerError('slot shards left unprocessed');
        const response = await this.#client.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[this.#table] ?? []) {
          const ref = byKey.get(String(item.pk));
          if (ref) found.set(slotShardKey(ref), holdersOf(item));
        }
        pending = (response.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }
}
