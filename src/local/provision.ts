/**
 * Provisions, on the emulators, the resources template.yaml declares (and the two tables that
 * exist already in AWS), so tests and `npm run local` run the real handlers against the same
 * shapes: the routing log with its stream and audit index, the effect-marker table, Jobs and
 * Credits, both provider queues, and an event bus of its own with a rule that captures the
 * announcements on an SQS queue (the way to observe PutEvents on an emulator).
 */
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export interface LocalStack {
  readonly stage: string;
  readonly tables: {
    readonly routingLog: string;
    readonly effects: string;
    readonly jobs: string;
    readonly credits: string;
    readonly content: string;
    readonly providerHealth: string;
  };
  readonly routingLogStreamArn: string;
  readonly queues: { readonly fal: string; readonly replicate: string; readonly announcements: string };
  readonly eventBusName: string;
}

export interface ProvisionOptions {
  readonly stage: string;
  /** Create the provider queues as FIFO queues (`.fifo`). */
  readonly fifoProviderQueues?: boolean;
}

/** The environment the router, projector and heartbeat read, for this stack. */
export function handlerEnvironment(stack: LocalStack): Record<string, string> {
  return {
    STAGE: stack.stage,
    EVENT_LOG_TABLE: stack.tables.routingLog,
    EFFECTS_TABLE: stack.tables.effects,
    JOBS_TABLE: stack.tables.jobs,
    CREDITS_TABLE: stack.tables.credits,
    CONTENT_TABLE: stack.tables.content,
    PROVIDER_HEALTH_TABLE: stack.tables.providerHealth,
    FAL_QUEUE_URL: stack.queues.fal,
    REPLICATE_QUEUE_URL: stack.queues.replicate,
    EVENT_BUS_NAME: stack.eventBusName,
  };
}

async function createTable(
  client: DynamoDBClient,
  input: ConstructorParameters<typeof CreateTableCommand>[0],
) {
  const created = await client.send(new CreateTableCommand({ BillingMode: 'PAY_PER_REQUEST', ...input }));
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: input.TableName });
  return created.TableDescription;
}

export async function provisionLocalStack(options: ProvisionOptions): Promise<LocalStack> {
  const { stage } = options;
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const events = new EventBridgeClient({});
  try {
    const tables = {
      routingLog: `RoutingLog-${stage}`,
      effects: `RoutingEffects-${stage}`,
      jobs: `Jobs-${stage}`,
      credits: `Credits-${stage}`,
      content: `RoutingContent-${stage}`,
      providerHealth: `ProviderHealth-${stage}`,
    };
    const [log] = await Promise.all([
      createTable(dynamodb, {
        TableName: tables.routingLog,
        AttributeDefinitions: [
          { AttributeName: 'stream', AttributeType: 'S' },
          { AttributeName: 'version', AttributeType: 'N' },
          { AttributeName: 'gsi1pk', AttributeType: 'S' },
          { AttributeName: 'gsi1sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'stream', KeyType: 'HASH' },
          { AttributeName: 'version', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byProviderTime',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
      createTable(dynamodb, {
        TableName: tables.effects,
        AttributeDefinitions: [{ AttributeName: 'effectId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'effectId', KeyType: 'HASH' }],
      }),
      createTable(dynamodb, {
        TableName: tables.jobs,
        AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
      }),
      createTable(dynamodb, {
        TableName: tables.content,
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 'userId', AttributeType: 'S' },
          { AttributeName: 'recordedAt', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byUser',
            KeySchema: [
              { AttributeName: 'userId', KeyType: 'HASH' },
              { AttributeName: 'recordedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
      createTable(dynamodb, {
        TableName: tables.credits,
        AttributeDefinitions: [{ AttributeName: 'userId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
      }),
      createTable(dynamodb, {
        TableName: tables.providerHealth,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    ]);

    const fifo = options.fifoProviderQueues === true;
    const queue = async (name: string, attributes: Record<string, string> = {}) =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
        .QueueUrl as string;
    const providerQueue = (name: string) =>
      fifo ? queue(`${name}-${stage}.fifo`, { FifoQueue: 'true' }) : queue(`${name}-${stage}`);
    const [fal, replicate, announcements] = await Promise.all([
      providerQueue('FalJobQueue'),
      providerQueue('ReplicateJobQueue'),
      queue(`RoutingAnnouncements-${stage}`),
    ]);

    // A bus per stack (the deployed stack uses the default bus): stacks sharing one emulator never
    // see each other's announcements. The capture rule takes what a consumer's rule would.
    const eventBusName = `routing-${stage}`;
    await events.send(new CreateEventBusCommand({ Name: eventBusName }));
    const ruleName = `routing-announcements-${stage}`;
    await events.send(
      new PutRuleCommand({
        Name: ruleName,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify({ source: ['routing.manager'] }),
      }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: announcements, AttributeNames: ['QueueArn'] }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: eventBusName,
        Targets: [{ Id: 'capture', Arn: Attributes?.QueueArn as string }],
      }),
    );

    return {
      stage,
      tables,
      routingLogStreamArn: log?.LatestStreamArn as string,
      queues: { fal, replicate, announcements },
      eventBusName,
    };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    events.destroy();
  }
}
