/**
 * The Jobs table (`Jobs-<Stage>`, key `jobId`), of which the Routing Manager owns only the routing
 * attributes. One UpdateItem per projection, conditional so that it converges under redelivery and
 * replay and never regresses: it applies only when the item has no newer `routingVersion` and its
 * status is absent or one routing may overwrite (docs/EXACTLY_ONCE.md#job-status).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PlannedJobStatus } from '../projections/effects.ts';
import { type JobStatusOutcome, type JobsTable, OVERWRITABLE_STATUSES } from '../projections/job-status.ts';

const OWNED = ['provider', 'model', 'queue', 'reason'] as const;

export class DynamoDbJobsTable implements JobsTable {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async projectStatus(update: PlannedJobStatus): Promise<JobStatusOutcome> {
    const names: Record<string, string> = {
      '#status': 'status',
      '#routedAt': 'routedAt',
      '#routingVersion': 'routingVersion',
    };
    const values: Record<string, unknown> = {
      ':status': update.status,
      ':routedAt': update.routedAt,
      ':version': update.routingVersion,
    };
    const set = ['#status = :status', '#routedAt = :routedAt', '#routingVersion = :version'];
    const remove: string[] = [];
    for (const attribute of OWNED) {
      names[`#${attribute}`] = attribute;
      const value = update[attribute];
      // An owned attribute the outcome does not have is removed, so the item converges exactly.
      if (value === null) remove.push(`#${attribute}`);
      else {
        set.push(`#${attribute} = :${attribute}`);
        values[`:${attribute}`] = value;
      }
    }
    const overwritable = OVERWRITABLE_STATUSES.map((status, i) => {
      values[`:overwritable${i}`] = status;
      return `:overwritable${i}`;
    });
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { jobId: update.jobId },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression:
            '(attribute_not_exists(#routingVersion) OR #routingVersion <= :version) AND ' +
            `(attribute_not_exists(#status) OR #status IN (${overwritable.join(', ')}))`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'applied';
    } catch (error) {
      // Already converged, a newer routing version, or another agent advanced the job: all success.
      if (error instanceof ConditionalCheckFailedException) return 'superseded';
      throw error;
    }
  }
}
