/**
 * The audit index of the routing log (`byProviderTimeKeys` GSI) on DynamoDB. Query only — never Scan:
 * for each UTC day of the window it queries the day's partitions (providers × 8 shards) in
 * parallel with `gsi1pk = :pk AND gsi1sk BETWEEN :since AND :until`, follows every page, merges
 * them by gsi1sk and yields the day's decisions before touching the next day, so a `--limit`
 * stops early and memory holds one day at a time.
 *
 * The index projects keys only (template.yaml: an entry is ≈ 150 bytes, 1 WRU per decision, where
 * a copy of the item cost as much as the item): each partition's listed keys are then read from the
 * table with BatchGetItem (≤ 100 per call, strongly consistent), an operator-time cost of about one
 * RRU per listed decision.
 *
 * A GSI is eventually consistent (no ConsistentRead): a decision appended a moment ago may not be
 * listed yet. Only decisions carry index keys; replay records never appear here.
 */

import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_BATCH_ROUNDS } from '../batching/in-rounds.ts';
import { type DecisionRecord, isDecision } from '../log/routing-records.ts';
import { recordFromItem } from '../log/stored-records.ts';
import type { AuditIndex, AuditQueryProgress, AuditWindow } from '../ports/audit-index.ts';
import { decisionsDayByDay } from '../queries/audit-window.ts';
import { batchGetItems } from './dynamodb-batch-get.ts';
import { UnprocessedItemsError } from './unprocessed-items-error.ts';

export const AUDIT_INDEX_NAME = 'byProviderTimeKeys';

export class AuditIndexUnavailableError extends UnprocessedItemsError {
  constructor(unprocessed: number) {
    super('audit_index_unavailable', 'log item(s) listed by the audit index', 'read', unprocessed);
    this.name = 'AuditIndexUnavailableError';
  }
}

/** Partition queries in flight at once: a day of 3 providers is 24; the SDK pools 50 sockets. */
const CONCURRENCY = 16;

export class DynamoDbAuditIndex implements AuditIndex {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  /** The decisions filed under these providers in the window, in recorded-time order. */
  async *decisions(
    providers: readonly string[],
    window: AuditWindow,
    onProgress?: (progress: AuditQueryProgress) => void,
  ): AsyncGenerator<DecisionRecord> {
    yield* decisionsDayByDay(providers, window, (gsi1pk) => this.#queryPartition(gsi1pk, window), {
      concurrency: CONCURRENCY,
      ...(onProgress ? { onProgress } : {}),
    });
  }

  async #queryPartition(gsi1pk: string, window: AuditWindow): Promise<DecisionRecord[]> {
    const records: DecisionRecord[] = [];
    const pages = paginateQuery(
      { client: this.#client },
      {
        TableName: this.#tableName,
        IndexName: AUDIT_INDEX_NAME,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :since AND :until',
        ExpressionAttributeValues: { ':pk': gsi1pk, ':since': window.since, ':until': window.until },
      },
    );
    const keys: Record<string, unknown>[] = [];
    for await (const page of pages) {
      for (const item of page.Items ?? []) keys.push({ stream: item.stream, version: item.version });
    }
    const items = await batchGetItems(
      this.#client,
      { tableName: this.#tableName, keys },
      DEFAULT_BATCH_ROUNDS,
      (unprocessed) => new AuditIndexUnavailableError(unprocessed),
    );
    for (const item of items) {
      const record = recordFromItem(item);
      if (isDecision(record)) records.push(record);
    }
    return records;
  }
}
