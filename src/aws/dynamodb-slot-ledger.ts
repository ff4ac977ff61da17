/**
 * The slot ledger on DynamoDB: items `slots#<provider>#<shard>` of `ProviderHealth-<Stage>`.
 *
 *   slots#fal#0  { n: 2, "h#<dispatchId>": <expiresAtMs>, "h#<dispatchId>": <expiresAtMs> }
 *
 * A take is one UpdateItem — `SET h#<id> = :expires ADD n 1` if this dispatch holds nothing there
 * and `n < capacity` — so the count and the holders change together, atomically, on the server:
 * no read-modify-write, no version to conflict on, whatever the number of routers. A refused take
 * returns the item (ReturnValuesOnConditionCheckFailure: ALL_OLD): if this dispatch already holds
 * a slot there it is `already_held`; if some holder's expiry passed (a lost completion), those
 * holders are removed — each conditional on the expiry read, so a holder renewed meanwhile stays —
 * and the take is tried once more. A release is the mirror UpdateItem, conditional on the holder.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RoutingManagerError } from '../errors.ts';
import {
  type SlotHolder,
  type SlotLedger,
  type SlotShardRef,
  type SlotTake,
  type SlotTakeResult,
  slotShardKey,
} from '../ports/slot-ledger.ts';

export const slotItemKey = (ref: SlotShardRef): string => `slots#${ref.provider}#${ref.shard}`;
const HOLDER_PREFIX = 'h#';

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
          ConditionExpression: request.force
            ? 'attribute_not_exists(#holder)'
            : 'attribute_not_exists(#holder) AND (attribute_not_exists(#n) OR #n < :capacity)',
          ExpressionAttributeNames: { '#holder': `${HOLDER_PREFIX}${request.dispatchId}`, '#n': 'n' },
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
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: slotItemKey(ref) },
          UpdateExpression: 'REMOVE #holder ADD #n :minus',
          ConditionExpression: 'attribute_exists(#holder)',
          ExpressionAttributeNames: { '#holder': `${HOLDER_PREFIX}${dispatchId}`, '#n': 'n' },
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      );
      return 'released';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'not_held';
      throw error;
    }
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
