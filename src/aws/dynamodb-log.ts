/**
 * A log on DynamoDB — partition key `stream`, sort key `version` — as the routing log and the rules
 * log (a stream of the same table) both keep one; only the mapping between a record and its item
 * differs. Appends are AppendOnlyLog's (numbering checked, records in order), each record one
 * PutItem conditional on its key not existing, so a version is written once and never overwritten.
 * On a clash DynamoDB can return the stored item with the failure (ReturnValuesOnConditionCheckFailure:
 * ALL_OLD), which the VersionConflictError then carries, so a duplicate costs no extra read. Reads
 * are consistent Queries of one stream, in version order.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { VersionConflictError } from '../errors.ts';
import { AppendOnlyLog, type StreamPosition } from '../log/routing-records.ts';

/** How a log's records are stored and read back (src/log/stored-records.ts, src/log/rules-records.ts). */
export interface LogItemMapping<R> {
  readonly itemOf: (record: R) => Record<string, unknown>;
  /** Reads an item as a record of the current shape (upcasting older ones), or throws a typed error. */
  readonly recordOf: (item: Record<string, unknown>) => R;
  /** Whether a conflict carries the record found at the version (what a duplicate is answered from). */
  readonly existingOnConflict: boolean;
}

export abstract class DynamoDbLog<R extends { readonly metadata: StreamPosition }> extends AppendOnlyLog<R> {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly tableName: string;
  protected readonly mapping: LogItemMapping<R>;

  constructor(client: DynamoDBDocumentClient, tableName: string, mapping: LogItemMapping<R>) {
    super();
    this.client = client;
    this.tableName = tableName;
    this.mapping = mapping;
  }

  /** Every record of a stream, in version order; empty when the stream does not exist. */
  async readStream(stream: string): Promise<R[]> {
    const records: R[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': stream },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) records.push(this.mapping.recordOf(item));
    }
    return records;
  }

  protected async putIfFree(record: R): Promise<void> {
    const { stream, version } = record.metadata;
    const { itemOf, recordOf, existingOnConflict } = this.mapping;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: itemOf(record),
          ConditionExpression: 'attribute_not_exists(#stream)',
          ExpressionAttributeNames: { '#stream': 'stream' },
          ...(existingOnConflict ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = existingOnConflict && error.Item ? recordOf(unmarshall(error.Item)) : undefined;
      throw new VersionConflictError(stream, version, { cause: error, existing });
    }
  }
}
