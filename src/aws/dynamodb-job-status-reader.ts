/** The job-status reader on `Jobs-<Stage>`: one strongly consistent GetItem by `jobId`. */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { JobProjection, JobStatusReader } from '../ports/job-status-reader.ts';

export class DynamoDbJobStatusReader implements JobStatusReader {
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
