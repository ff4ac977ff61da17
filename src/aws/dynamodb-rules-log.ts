/**
 * The rules log on DynamoDB: the `rules#routing` partition of `RoutingLog-<Stage>`. The router's
 * read is one Query for the newest item (descending, Limit 1) — every record carries the full
 * state — and an append is one PutItem conditional on the version being free.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, paginateQuery, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../errors.ts';
import { appendInOrder } from '../log/routing-records.ts';
import { RULES_STREAM, type RulesRecord, rulesRecordFromItem } from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';

export class DynamoDbRulesLog implements RulesLog {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #stream: string;

  constructor(client: DynamoDBDocumentClient, tableName: string, stream = RULES_STREAM) {
    this.#client = client;
    this.#tableName = tableName;
    this.#stream = stream;
  }

  async latest(): Promise<RulesRecord | null> {
    const { Items = [] } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': this.#stream },
        ScanIndexForward: false,
        Limit: 1,
        // A publication must reach the router within its cache period, not a replication lag later.
        ConsistentRead: true,
      }),
    );
    const [item] = Items;
    return item ? rulesRecordFromItem(item) : null;
  }

  async readAll(): Promise<RulesRecord[]> {
    const records: RulesRecord[] = [];
    const pages = paginateQuery(
      { client: this.#client },
      {
        TableName: this.#tableName,
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': this.#stream },
        ConsistentRead: true,
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? []) records.push(rulesRecordFromItem(item));
    return records;
  }

  async appendToStream(
    records: readonly RulesRecord[],
    { expectedVersion }: { readonly expectedVersion: number },
  ): Promise<number> {
    return appendInOrder(
      RULES_STREAM,
      records,
      expectedVersion,
      (record) => record,
      async (record) => {
        try {
          await this.#client.send(
            new PutCommand({
              TableName: this.#tableName,
              Item: { ...record, stream: this.#stream },
              ConditionExpression: 'attribute_not_exists(#stream)',
              ExpressionAttributeNames: { '#stream': 'stream' },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          throw new VersionConflictError(this.#stream, record.version, { cause: error });
        }
      },
    );
  }
}
