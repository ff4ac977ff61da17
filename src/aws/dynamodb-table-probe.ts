/** DescribeTable adapter for the self-check's `TableProbe` port. */
import {
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { TableDescription, TableProbe } from '../ports/table-probe.ts';

export class DynamoDbTableProbe implements TableProbe {
  readonly #client: DynamoDBClient;

  constructor(client: DynamoDBClient) {
    this.#client = client;
  }

  async describe(tableName: string): Promise<TableDescription> {
    try {
      const { Table } = await this.#client.send(new DescribeTableCommand({ TableName: tableName }));
      return {
        kind: 'found',
        status: Table?.TableStatus ?? 'UNKNOWN',
        streamEnabled: Table?.StreamSpecification?.StreamEnabled === true,
        streamViewType: Table?.StreamSpecification?.StreamViewType,
      };
    } catch (error) {
      // Only "no such table" is an answer; throttling, AccessDenied or network errors stay errors.
      if (error instanceof ResourceNotFoundException) return { kind: 'missing' };
      throw error;
    }
  }
}
