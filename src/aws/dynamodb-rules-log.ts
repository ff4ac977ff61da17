/**
 * The rules log on DynamoDB: the `rules#routing` partition of `RoutingLog-<Stage>`. The router's
 * read is one Query for the newest item (descending, Limit 1) — every record carries the full
 * state — and an append is one PutItem per record, conditional on its version being free
 * (src/aws/dynamodb-log.ts). Items are the log's one-level layout (src/log/rules-records.ts
 * `rulesItemOf`), read back through the schema check and upcast of `rulesRecordFromItem`.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type RulesRecord, rulesItemOf, rulesRecordFromItem } from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';
import { DynamoDbLog } from './dynamodb-log.ts';

export class DynamoDbRulesLog extends DynamoDbLog<RulesRecord> implements RulesLog {
  constructor(client: DynamoDBDocumentClient, tableName: string) {
    super(client, tableName, {
      itemOf: rulesItemOf,
      recordOf: rulesRecordFromItem,
      existingOnConflict: false,
    });
  }

  async latest(stream: string): Promise<RulesRecord | null> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
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
}
