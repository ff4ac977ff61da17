/**
 * The routing log on DynamoDB (`RoutingLog-<Stage>`: partition key `stream`, sort key `version`):
 * items stored and read back through the one mapping of stored-records.ts. A record is appended by
 * one PutItem conditional on its key not existing; on a clash the VersionConflictError carries the
 * record found there (DynamoDB returns it with the failure), so a duplicate costs no extra read
 * (src/aws/dynamodb-log.ts).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RoutingLogRecord } from '../log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../log/stored-records.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { DynamoDbLog } from './dynamodb-log.ts';

export class DynamoDbRoutingLog extends DynamoDbLog<RoutingLogRecord> implements RoutingLog {
  constructor(client: DynamoDBDocumentClient, tableName: string) {
    super(client, tableName, { itemOf: storedItemOf, recordOf: recordFromItem, existingOnConflict: true });
  }
}
