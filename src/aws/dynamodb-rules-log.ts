/**
 * The rules log on DynamoDB: the `rules#routing` partition of `RoutingLog-<Stage>`. The router's
 * read is one Query for the newest item (descending, Limit 1) — every record carries the full
 * state — and an append is one PutItem per record, conditional on its version being free. Items are
 * the log's one-level layout (src/log/rules-records.ts `rulesItemOf`), read back through the schema
 * check and upcast of `rulesRecordFromItem`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, paginateQuery, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../errors.ts';
import { AppendOnlyLog } from '../log/routing-records.ts';
import { type RulesRecord, rulesItemOf, rulesRecordFromItem } from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';

export class DynamoDbRulesLog extends AppendOnlyLog<RulesRecord> implements RulesLog {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    super();
    this.#client = client;
    this.#tableName = tableName;
  }

  async latest(stream: string): Promise<RulesRecord | null> {
    const { Items = [] } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': stream },
        ScanIndexForward: false,
        Limit: 1,
        // A publication must reach the router within its cache period, not a replication lag later.
        ConsistentRead: true,
      }),
    );
    const [item] = Items;
    return item ? rulesRecordFromItem(item) : null;
  }

  async readStream(stream: string): Promise<RulesRecord[]> {
    const records: RulesRecord[] = [];
    const pages = paginateQuery(
      { client: this.#client },
      {
        TableName: this.#tableName,
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': stream },
        ConsistentRead: true,
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? []) records.push(rulesRecordFromItem(item));
    return records;
  }

  protected async putIfFree(record: RulesRecord): Promise<void> {
    const { stream, version } = record.metadata;
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: rulesItemOf(record),
          ConditionExpression: 'attribute_not_exists(#stream)',
          ExpressionAttributeNames: { '#stream': 'stream' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new VersionConflictError(stream, version, { cause: error });
    }
  }
}
