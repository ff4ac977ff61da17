/**
 * The routing log on DynamoDB (`RoutingLog-<Stage>`: partition key `stream`, sort key `version`).
 * An append is one PutItem conditional on the key not existing; on a clash, DynamoDB returns the
 * stored item with the failure (ReturnValuesOnConditionCheckFailure: ALL_OLD), so a duplicate
 * costs no extra read.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { RoutingLogRecord } from '../log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../log/stored-records.ts';
import type { AppendResult, RoutingLog } from '../ports/routing-log.ts';

export class DynamoDbRoutingLog implements RoutingLog {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async append(record: RoutingLogRecord): Promise<AppendResult> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: storedItemOf(record),
          ConditionExpression: 'attribute_not_exists(#stream)',
          ExpressionAttributeNames: { '#stream': 'stream' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { status: 'appended' };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { status: 'exists', existing: recordFromItem(unmarshall(error.Item)) };
      }
      throw error;
    }
  }

  async readStream(stream: string): Promise<RoutingLogRecord[]> {
    const records: RoutingLogRecord[] = [];
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
    for await (const page of pages) {
      for (const item of page.Items ?? []) records.push(recordFromItem(item));
    }
    return records;
  }
}
