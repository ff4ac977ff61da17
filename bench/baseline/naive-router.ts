/**
 * NAIVE BASELINE — NOT PRODUCTION CODE. It exists only so the benchmark can compare the Routing
 * Manager's design (one conditional append; batched, stream-driven side effects) against the
 * obvious inline design, measured on the same emulators with the same workload and the same `decide`.
 *
 * Per job, inline and one call each, as a straightforward Powertools-idempotency router would do:
 *   1. PutItem   the idempotency record (status INPROGRESS), conditional on it not existing or having
 *                expired — Powertools' DynamoDBPersistenceLayer; a duplicate stops here (1 call) with
 *                the stored result (ReturnValuesOnConditionCheckFailure: ALL_OLD);
 *   2. GetItem   the user's credit balance (valid submissions);
 *   3. decide    the same pure rule engine and routing table as the real router;
 *   4. SendMessage to the provider queue (routed jobs);
 *   5. PutEvents  video.job.routed / video.job.rejected (one entry);
 *   6. UpdateItem Jobs-<Stage> status (jobs with a jobId);
 *   7. UpdateItem the idempotency record → COMPLETED with the response.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type SubmittedEvent, validateSubmission } from '../../src/intake/submission.ts';
import { ANNOUNCEMENT_SOURCE } from '../../src/projections/effects.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';

export interface NaiveRouterConfig {
  readonly idempotencyTable: string;
  readonly creditsTable: string;
  readonly jobsTable: string;
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly eventBusName: string;
}

export interface NaiveRouterResponse {
  readonly jobId: string | null;
  readonly outcome: 'routed' | 'rejected' | 'duplicate' | 'in_progress';
  readonly provider: string | null;
  readonly reason: string | null;
}

/** Powertools' defaults: a completed record is kept 1 hour; an in-progress one expires with the invocation. */
const EXPIRES_AFTER_SECONDS = 3600;
const IN_PROGRESS_EXPIRES_MS = 30_000;

/** The idempotency table of the baseline (Powertools' default schema: partition key `id`). */
export async function createIdempotencyTable(tableName: string): Promise<void> {
  const client = new DynamoDBClient({});
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
  } finally {
    client.destroy();
  }
}

export function createNaiveRouter(config: NaiveRouterConfig) {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 4 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient({ maxAttempts: 4 });
  const events = new EventBridgeClient({ maxAttempts: 4 });
  const logger = new Logger({ serviceName: 'naive-baseline' });

  return async function naiveRouter(event: SubmittedEvent): Promise<NaiveRouterResponse> {
    const detail = (event.detail ?? {}) as { jobId?: unknown };
    const jobId = typeof detail.jobId === 'string' ? detail.jobId : null;
    const key = `naive-router#${jobId ?? String(event.id)}`;
    const now = Date.now();

    // 1. Idempotency record, INPROGRESS.
    try {
      await documents.send(
        new PutCommand({
          TableName: config.idempotencyTable,
          Item: {
            id: key,
            status: 'INPROGRESS',
            expiration: Math.floor(now / 1000) + EXPIRES_AFTER_SECONDS,
            in_progress_expiration: now + IN_PROGRESS_EXPIRES_MS,
          },
          ConditionExpression:
            'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND #ipexpiry < :nowms)',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#expiry': 'expiration',
            '#status': 'status',
            '#ipexpiry': 'in_progress_expiration',
          },
          ExpressionAttributeValues: {
            ':now': Math.floor(now / 1000),
            ':nowms': now,
            ':inprogress': 'INPROGRESS',
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const stored = error.Item ? unmarshall(error.Item) : undefined;
        if (stored?.status === 'COMPLETED' && typeof stored.data === 'string') {
          return { ...(JSON.parse(stored.data) as NaiveRouterResponse), outcome: 'duplicate' };
        }
        return { jobId, outcome: 'in_progress', provider: null, reason: null };
      }
      throw error;
    }

    const intake = validateSubmission(event, defaultRoutingTable);
    let response: NaiveRouterResponse;
    let announcement: Record<string, unknown>;
    const ts = new Date(now).toISOString();
    if (intake.ok) {
      const job = intake.submission;
      // 2. Credits, read for every valid job whether or not a rule needs them.
      const { Item } = await documents.send(
        new GetCommand({ TableName: config.creditsTable, Key: { userId: job.userId }, ConsistentRead: true }),
      );
      const balance = typeof Item?.balance === 'number' ? Item.balance : null;
      // 3. The same decision as the real router.
      const decision = decide(job, { table: defaultRoutingTable, creditBalance: balance });
      if (decision.outcome === 'routed') {
        // 4. Dispatch, one message.
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: config.queueUrls[decision.provider] as string,
            MessageBody: JSON.stringify({
              jobId: job.jobId,
              provider: decision.provider,
              model: decision.model,
              job,
            }),
          }),
        );
        response = { jobId: job.jobId, outcome: 'routed', provider: decision.provider, reason: null };
        announcement = {
          jobId: job.jobId,
          provider: decision.provider,
          model: decision.model,
          queue: decision.queue,
          routedBy: 'RoutingManager',
          ts,
        };
      } else {
        response = { jobId: job.jobId, outcome: 'rejected', provider: null, reason: decision.reason };
        announcement = { jobId: job.jobId, status: 'rejected', reason: decision.reason, ts };
      }
    } else {
      response = { jobId: intake.jobId ?? null, outcome: 'rejected', provider: null, reason: intake.reason };
      announcement = { jobId: intake.jobId ?? null, status: 'rejected', reason: intake.reason, ts };
    }

    // 5. Announce, one entry.
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: config.eventBusName,
            Source: ANNOUNCEMENT_SOURCE,
            DetailType: response.outcome === 'routed' ? 'video.job.routed' : 'video.job.rejected',
            Detail: JSON.stringify(announcement),
          },
        ],
      }),
    );
    // 6. Job status.
    if (response.jobId) {
      await documents.send(
        new UpdateCommand({
          TableName: config.jobsTable,
          Key: { jobId: response.jobId },
          UpdateExpression:
            'SET #status = :status, #provider = :provider, #reason = :reason, #routedAt = :at',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#provider': 'provider',
            '#reason': 'reason',
            '#routedAt': 'routedAt',
          },
          ExpressionAttributeValues: {
            ':status': response.outcome === 'routed' ? 'ROUTED' : 'REJECTED',
            ':provider': response.provider,
            ':reason': response.reason,
            ':at': ts,
          },
        }),
      );
    }
    // 7. Idempotency record, COMPLETED.
    await documents.send(
      new UpdateCommand({
        TableName: config.idempotencyTable,
        Key: { id: key },
        UpdateExpression: 'SET #status = :completed, #data = :data, #expiry = :expiry',
        ExpressionAttributeNames: { '#status': 'status', '#data': 'data', '#expiry': 'expiration' },
        ExpressionAttributeValues: {
          ':completed': 'COMPLETED',
          ':data': JSON.stringify(response),
          ':expiry': Math.floor(now / 1000) + EXPIRES_AFTER_SECONDS,
        },
      }),
    );
    logger.info('routing decision', { ...response });
    return response;
  };
}
