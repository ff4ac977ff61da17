/**
 * Reads a job's routing projection from `Jobs-<Stage>` (strongly consistent): what the operator CLI
 * shows beside a job's log, and what `npm run local` reads back.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

export interface JobProjection {
  readonly jobId: string;
  readonly status?: string;
  readonly provider?: string;
  readonly model?: string;
  readonly queue?: string;
  readonly reason?: string;
  readonly routedAt?: string;
  readonly routingVersion?: number;
  readonly [attribute: string]: unknown;
}

export class DynamoDbJobStatusReader {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async read(jobId: string): Promise<JobProjection | null> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { jobId }, ConsistentRead: true }),
    );
    return (Item as JobProjection | undefined) ?? null;
  }
}
