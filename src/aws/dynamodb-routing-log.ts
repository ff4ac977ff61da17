/**
 * The routing log on DynamoDB (`RoutingLog-<Stage>`: partition key `stream`, sort key `version`).
 * A record is appended by one PutItem conditional on its key not existing; on a clash, DynamoDB
 * returns the stored item with the failure (ReturnValuesOnConditionCheckFailure: ALL_OLD), which
 * the VersionConflictError carries, so a duplicate costs no extra read.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { VersionConflictError } from '../errors.ts';
import { AppendOnlyLog, type RoutingLogRecord } from '../log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../log/stored-records.ts';
import type { RoutingLog } from '../ports/routing-log.ts';

export class DynamoDbRoutingLog extends AppendOnlyLog<RoutingLogRecord> implements RoutingLog {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    super();
    this.#client = client;
    this.#tableName = tableName;
  }

  protected async putIfFree(record: RoutingLogRecord): Promise<void> {
    const { stream, version } = record.metadata;
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
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = error.Item ? recordFromItem(unmarshall(error.Item)) : undefined;
      throw new VersionConflictError(stream, version, { cause: error, existing });
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
