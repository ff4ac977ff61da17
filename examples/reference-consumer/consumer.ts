/**
 * A reference provider consumer, written from docs/CONSUMERS.md alone: it imports nothing from the
 * Routing Manager, only the AWS SDK. Per message it
 *   1. dedupes and fences with one conditional write to its own ledger (never waiting for Jobs),
 *   2. drops the message only when the Jobs item shows a newer dispatch (missing/behind is normal),
 *   3. accepts durably, deletes the message (no 30 s visibility race, no 5-receive DLQ), and writes
 *      RUNNING with `statusVersion` into the Jobs item,
 *   4. runs the job, retrying retryable failures itself, reporting every attempt with its
 *      `attemptId`, and writes the final status.
 * tests/e2e/reference-consumer.e2e.spec.ts runs it against the live local stack.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** What one attempt of the paid generation said. */
export type RunResult =
  | { readonly outcome: 'succeeded' }
  | { readonly outcome: 'failed_terminal' | 'failed_retryable'; readonly errorClass: string };

export interface DispatchMessage {
  readonly jobId: string;
  readonly dispatchId: string;
  readonly routingVersion: number;
  readonly dispatchKind: string;
  readonly revision: number;
  readonly previousDispatchId: string | null;
  readonly provider: string;
  readonly model: string;
  readonly [field: string]: unknown;
}

export interface ConsumerSettings {
  readonly queueUrl: string;
  /** `Jobs-<Stage>`: only the provider's attributes are written (docs/CONSUMERS.md). */
  readonly jobsTable: string;
  /** The consumer's own table, key `jobId` (string): the per-job fence and the dedupe of paid work. */
  readonly ledgerTable: string;
  /** Where attempt reports go, as `provider.invoker` events. */
  readonly eventBusName: string;
  /** One attempt of the paid generation (a stand-in the caller supplies). */
  readonly run: (job: DispatchMessage, attempt: number) => Promise<RunResult>;
  /** Attempts of one dispatch before a retryable failure is given up as terminal (default 3). */
  readonly maxAttempts?: number;
}

export type Handled =
  | { readonly dispatchId: string; readonly action: 'ran'; readonly outcome: RunResult['outcome'] }
  | { readonly dispatchId: string; readonly action: 'duplicate' | 'stale' }
  | { readonly dispatchId: null; readonly action: 'unreadable' };

export interface ConsumerClients {
  readonly sqs: SQSClient;
  readonly documents: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  destroy(): void;
}

export function consumerClients(): ConsumerClients {
  const sqs = new SQSClient({});
  const dynamodb = new DynamoDBClient({});
  const events = new EventBridgeClient({});
  return {
    sqs,
    documents: DynamoDBDocumentClient.from(dynamodb),
    events,
    destroy: () => {
      sqs.destroy();
      dynamodb.destroy();
      events.destroy();
    },
  };
}

/** Receives one batch (long poll) and handles every message of it. */
export async function receiveOnce(
  settings: ConsumerSettings,
  clients: ConsumerClients,
  waitSeconds = 1,
): Promise<Handled[]> {
  const { Messages = [] } = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: settings.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
    }),
  );
  const handled: Handled[] = [];
  for (const message of Messages) handled.push(await handleMessage(message, settings, clients));
  return handled;
}

/** The whole receipt rule of docs/CONSUMERS.md for one message. */
export async function handleMessage(
  message: Message,
  settings: ConsumerSettings,
  clients: ConsumerClients,
): Promise<Handled> {
  const job = parseMessage(message.Body);
  const remove = () =>
    clients.sqs.send(
      new DeleteMessageCommand({ QueueUrl: settings.queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  if (!job) {
    // Not a dispatch: leave it for the DLQ (5 receives), where someone will look at it.
    return { dispatchId: null, action: 'unreadable' };
  }
  // 1. Dedupe and fence in one conditional write to the ledger.
  const fence = await claim(job, settings, clients.documents);
  if (fence !== 'new') {
    await remove();
    return { dispatchId: job.dispatchId, action: fence };
  }
  // 2. The Jobs item only ever proves staleness: a newer version there; missing or behind is normal.
  const item = await clients.documents.send(
    new GetCommand({
      TableName: settings.jobsTable,
      Key: { jobId: job.jobId },
      ConsistentRead: true,
      ProjectionExpression: 'routingVersion',
    }),
  );
  const jobsVersion = item.Item?.routingVersion;
  if (typeof jobsVersion === 'number' && jobsVersion > job.routingVersion) {
    await remove();
    return { dispatchId: job.dispatchId, action: 'stale' };
  }
  // 3. Accepted durably (the ledger): the message can go; a redelivery is now a duplicate.
  await remove();
  if (!(await writeStatus(job, 'RUNNING', settings, clients.documents))) {
    return { dispatchId: job.dispatchId, action: 'stale' };
  }
  // 4. Run, retrying retryable failures ourselves, each attempt reported with its own attemptId.
  const maxAttempts = settings.maxAttempts ?? 3;
  let result: RunResult = { outcome: 'failed_terminal', errorClass: 'server_error' };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    result = await settings.run(job, attempt);
    const last = attempt === maxAttempts;
    const reported: RunResult =
      result.outcome === 'failed_retryable' && last ? { ...result, outcome: 'failed_terminal' } : result;
    await report(job, attempt, reported, settings, clients.events);
    if (reported.outcome !== 'failed_retryable') {
      result = reported;
      break;
    }
  }
  await writeStatus(
    job,
    result.outcome === 'succeeded' ? 'SUCCEEDED' : 'FAILED',
    settings,
    clients.documents,
  );
  await clients.documents
    .send(
      new UpdateCommand({
        TableName: settings.ledgerTable,
        Key: { jobId: job.jobId },
        UpdateExpression: 'SET #state = :state',
        ConditionExpression: 'dispatchId = :dispatchId',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':state': result.outcome, ':dispatchId': job.dispatchId },
      }),
    )
    .catch(ignoreConditionFailure);
  return { dispatchId: job.dispatchId, action: 'ran', outcome: result.outcome };
}

function parseMessage(body: string | undefined): DispatchMessage | null {
  try {
    const parsed = JSON.parse(body ?? '') as Partial<DispatchMessage>;
    const usable =
      typeof parsed.jobId === 'string' &&
      typeof parsed.dispatchId === 'string' &&
      typeof parsed.routingVersion === 'number' &&
      Number.isInteger(parsed.routingVersion);
    return usable ? (parsed as DispatchMessage) : null;
  } catch {
    return null;
  }
}

/** `new`, or why not: the same dispatch again (`duplicate`), or a newer one already seen (`stale`). */
async function claim(
  job: DispatchMessage,
  settings: ConsumerSettings,
  documents: DynamoDBDocumentClient,
): Promise<'new' | 'duplicate' | 'stale'> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: settings.ledgerTable,
        Key: { jobId: job.jobId },
        UpdateExpression: 'SET routingVersion = :version, dispatchId = :dispatchId, #state = :accepted',
        ConditionExpression: 'attribute_not_exists(jobId) OR routingVersion < :version',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':version': job.routingVersion,
          ':dispatchId': job.dispatchId,
          ':accepted': 'accepted',
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'new';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const seen = error.Item?.routingVersion?.N;
    return Number(seen) === job.routingVersion ? 'duplicate' : 'stale';
  }
}

/**
 * The provider's status with the version it is about: accepted also before the Routing Manager's
 * Jobs write lands (item missing or behind); refused for a superseded dispatch (false).
 */
async function writeStatus(
  job: DispatchMessage,
  status: string,
  settings: ConsumerSettings,
  documents: DynamoDBDocumentClient,
): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: settings.jobsTable,
        Key: { jobId: job.jobId },
        UpdateExpression: 'SET #status = :status, statusVersion = :version',
        ConditionExpression:
          '(attribute_not_exists(routingVersion) OR routingVersion <= :version) AND ' +
          '(attribute_not_exists(statusVersion) OR statusVersion <= :version)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':version': job.routingVersion },
      }),
    );
    return true;
  } catch (error) {
    ignoreConditionFailure(error);
    return false;
  }
}

async function report(
  job: DispatchMessage,
  attempt: number,
  result: RunResult,
  settings: ConsumerSettings,
  events: EventBridgeClient,
): Promise<void> {
  const detail = {
    jobId: job.jobId,
    provider: job.provider,
    model: job.model,
    dispatchId: job.dispatchId,
    attemptId: `${job.dispatchId}#${attempt}`,
    outcome: result.outcome,
    errorClass: result.outcome === 'succeeded' ? null : result.errorClass,
  };
  const { FailedEntryCount } = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: settings.eventBusName,
          Source: 'provider.invoker',
          DetailType: 'provider.attempt.completed',
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  // Publishing again is always safe: the report is deduped on dispatchId + attemptId.
  if (FailedEntryCount) throw new Error(`attempt report of ${job.dispatchId} not accepted; publish it again`);
}

function ignoreConditionFailure(error: unknown): void {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
}
