/**
 * Provisions a stack on the emulators in two steps:
 *  1. from template.yaml: every table (keys, indexes, stream, TTL) and queue (retention, message
 *     size, redrive) the template creates when no existing resource is given — the routing log,
 *     the effect markers, Jobs and Credits, the provider queues with their DLQs, the failure queues;
 *  2. local-only resources that stand in for what a deployed stack observes or is given: an event
 *     bus of its own with a rule that captures the announcements on an SQS queue (the way to
 *     observe PutEvents on an emulator), the stack's two KMS keys (ContentKey, symmetric;
 *     PayloadHashKey, HMAC_256) on moto's KMS, and the log group of routing.manager events with its
 *     rule (template.yaml's RoutingEventsLogGroup and RoutingEventsRule) on moto's CloudWatch Logs.
 * Tests and `npm run local` then run the real handlers against the same shapes as AWS.
 */

import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ANNOUNCEMENT_SOURCE } from '../projections/effects.ts';
import { readTemplate, TemplateError, TemplateEvaluator } from '../template/cloudformation-template.ts';
import {
  type QueueDefinition,
  type QueueRuleDefinition,
  queueEventSources,
  type TableDefinition,
  templateResources,
} from './template-resources.ts';

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
  readonly queues: {
    readonly fal: string;
    readonly replicate: string;
    readonly announcements: string;
    /** HoldQueue: held jobs to decide again (the Holds function's event source). */
    readonly hold: string;
    /** HealthSignalsQueue: provider signals from the bus (the HealthSignals function's event source). */
    readonly healthSignals: string;
  };
  /** Records per batch of each function's SQS event source, as the template sets them. */
  readonly batchSizes: { readonly holds: number; readonly healthSignals: number };
  readonly eventBusName: string;
  /** The KMS keys (ARNs): transit keys are generated under `content`, payload-hash keys derived from `payloadHash`. */
  readonly keys: { readonly content: string; readonly payloadHash: string };
  /** Where every routing.manager event of the bus is logged (`npm run verify` reads it). */
  readonly routingEventsLogGroup: string;
}

export interface ProvisionOptions {
  readonly stage: string;
  /** Create the provider queues (and their DLQs) as FIFO queues (`.fifo`). */
  readonly fifoProviderQueues?: boolean;
  /** Template parameters besides Stage (queue and table parameters stay empty: all is created). */
  readonly parameters?: Readonly<Record<string, string>>;
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
    CONTENT_KMS_KEY_ID: stack.keys.content,
    PAYLOAD_HASH_KMS_KEY_ID: stack.keys.payloadHash,
    HOLD_QUEUE_URL: stack.queues.hold,
  };
}

/** Resource names by template logical id, as the stack's handlers are configured with them. */
const TABLES = {
  routingLog: 'RoutingLogTable',
  effects: 'RoutingEffectsTable',
  jobs: 'JobsTable',
  credits: 'CreditsTable',
  content: 'RoutingContentTable',
  providerHealth: 'ProviderHealthTable',
} as const;
const PROVIDER_QUEUES = { fal: 'FalJobQueue', replicate: 'ReplicateJobQueue' } as const;

interface Clients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  readonly kms: KMSClient;
  readonly logs: CloudWatchLogsClient;
}

export async function provisionLocalStack(options: ProvisionOptions): Promise<LocalStack> {
  const { stage } = options;
  const clients: Clients = {
    dynamodb: new DynamoDBClient({}),
    sqs: new SQSClient({}),
    events: new EventBridgeClient({}),
    kms: new KMSClient({}),
    logs: new CloudWatchLogsClient({}),
  };
  try {
    const evaluator = new TemplateEvaluator(readTemplate(), {
      parameters: { ...options.parameters, Stage: stage },
    });
    const { tables, queues, queueRules } = templateResources(evaluator);
    const [createdTables, queueUrls] = await Promise.all([
      Promise.all(tables.map((table) => createTable(clients.dynamodb, table))),
      createQueues(clients.sqs, fifoProviderQueues(queues, options.fifoProviderQueues === true)),
    ]);
    const tableNames = Object.fromEntries(createdTables.map((t) => [t.logicalId, t.name]));
    const tableName = (id: string) => {
      const name = tableNames[id];
      if (name === undefined) throw new TemplateError(`template.yaml creates no ${id} for a local stack`);
      return name;
    };
    const queueUrl = (id: string) => {
      const url = queueUrls.get(id);
      if (url === undefined) throw new TemplateError(`template.yaml creates no ${id} for a local stack`);
      return url;
    };

    const localOnly = await provisionLocalOnlyResources(clients, stage);
    await createQueueRules(clients, localOnly.eventBusName, queueRules, queueUrl);
    const batchSizeOf = (functionLogicalId: string) => {
      const source = queueEventSources(evaluator).find((s) => s.functionLogicalId === functionLogicalId);
      if (!source) throw new TemplateError(`template.yaml gives ${functionLogicalId} no SQS event source`);
      return source.batchSize;
    };

    return {
      stage,
      tables: {
        routingLog: tableName(TABLES.routingLog),
        effects: tableName(TABLES.effects),
        jobs: tableName(TABLES.jobs),
        credits: tableName(TABLES.credits),
        content: tableName(TABLES.content),
        providerHealth: tableName(TABLES.providerHealth),
      },
      routingLogStreamArn: createdTables.find((t) => t.logicalId === TABLES.routingLog)?.streamArn as string,
      queues: {
        fal: queueUrl(PROVIDER_QUEUES.fal),
        replicate: queueUrl(PROVIDER_QUEUES.replicate),
        announcements: localOnly.announcements,
        hold: queueUrl('HoldQueue'),
        healthSignals: queueUrl('HealthSignalsQueue'),
      },
      batchSizes: {
        holds: batchSizeOf('HoldsFunction'),
        healthSignals: batchSizeOf('HealthSignalsFunction'),
      },
      eventBusName: localOnly.eventBusName,
      keys: localOnly.keys,
      routingEventsLogGroup: localOnly.routingEventsLogGroup,
    };
  } finally {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
    clients.events.destroy();
    clients.kms.destroy();
    clients.logs.destroy();
  }
}

// ------------------------------------------------------------------ step 1: template.yaml's resources
async function createTable(client: DynamoDBClient, table: TableDefinition) {
  const created = await client.send(new CreateTableCommand(table.input));
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: table.input.TableName });
  if (table.timeToLiveAttribute !== null) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table.input.TableName,
        TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true },
      }),
    );
  }
  return {
    logicalId: table.logicalId,
    name: table.input.TableName,
    streamArn: created.TableDescription?.LatestStreamArn,
  };
}

/** The provider queues and their DLQs as FIFO queues (a FIFO queue's DLQ must be FIFO too). */
function fifoProviderQueues(queues: QueueDefinition[], fifo: boolean): QueueDefinition[] {
  if (!fifo) return queues;
  const providerIds = new Set<string>(Object.values(PROVIDER_QUEUES));
  for (const queue of queues) {
    if (providerIds.has(queue.logicalId) && queue.redrive) providerIds.add(queue.redrive.deadLetterLogicalId);
  }
  return queues.map((queue) =>
    providerIds.has(queue.logicalId)
      ? { ...queue, name: `${queue.name}.fifo`, attributes: { ...queue.attributes, FifoQueue: 'true' } }
      : queue,
  );
}

/** Creates the dead-letter queues first, then the queues that redrive to them; logical id → URL. */
async function createQueues(sqs: SQSClient, queues: QueueDefinition[]): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  const arns = new Map<string, string>();
  const create = async (queue: QueueDefinition) => {
    const attributes = { ...queue.attributes };
    if (queue.redrive) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arns.get(queue.redrive.deadLetterLogicalId),
        maxReceiveCount: queue.redrive.maxReceiveCount,
      });
    }
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: queue.name, Attributes: attributes }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    urls.set(queue.logicalId, QueueUrl as string);
    arns.set(queue.logicalId, Attributes?.QueueArn as string);
  };
  await Promise.all(queues.filter((queue) => queue.redrive === null).map(create));
  await Promise.all(queues.filter((queue) => queue.redrive !== null).map(create));
  return urls;
}

/**
 * The template's rules into its queues (HealthSignalsRule → HealthSignalsQueue), on the stack's own
 * bus: an event put there reaches the queue exactly as the deployed rule sends it. (moto takes the
 * queue's delivery without the queue policy the template gives EventBridge; IAM is the template
 * tests' to check.)
 */
async function createQueueRules(
  { sqs, events }: Pick<Clients, 'sqs' | 'events'>,
  eventBusName: string,
  rules: readonly QueueRuleDefinition[],
  queueUrl: (logicalId: string) => string,
) {
  for (const rule of rules) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl(rule.queueLogicalId),
        AttributeNames: ['QueueArn'],
      }),
    );
    await events.send(
      new PutRuleCommand({
        Name: rule.name,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify(rule.eventPattern),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule.name,
        EventBusName: eventBusName,
        Targets: [{ Id: rule.logicalId, Arn: Attributes?.QueueArn as string }],
      }),
    );
  }
}

// ------------------------------------------------------------------ step 2: local-only resources
/**
 * What a deployed stack observes or is given rather than creates. A bus per stack (the deployed
 * stack uses the default bus): stacks sharing one emulator never see each other's announcements.
 * The capture rule takes what a consumer's rule would.
 */
async function provisionLocalOnlyResources({ sqs, events, kms, logs }: Clients, stage: string) {
  const eventBusName = `routing-${stage}`;
  const [{ QueueUrl: announcements }, , contentKey, payloadHashKey] = await Promise.all([
    sqs.send(new CreateQueueCommand({ QueueName: `RoutingAnnouncements-${stage}` })),
    events.send(new CreateEventBusCommand({ Name: eventBusName })),
    kms.send(
      new CreateKeyCommand({
        Description: `RoutingManager content keys ${stage}`,
        KeySpec: 'SYMMETRIC_DEFAULT',
      }),
    ),
    kms.send(
      new CreateKeyCommand({
        Description: `RoutingManager payload-hash keys ${stage}`,
        KeySpec: 'HMAC_256',
        KeyUsage: 'GENERATE_VERIFY_MAC',
      }),
    ),
  ]);
  const keys = {
    content: contentKey.KeyMetadata?.Arn as string,
    payloadHash: payloadHashKey.KeyMetadata?.Arn as string,
  };
  const ruleName = `routing-announcements-${stage}`;
  await events.send(
    new PutRuleCommand({
      Name: ruleName,
      EventBusName: eventBusName,
      EventPattern: JSON.stringify({ source: [ANNOUNCEMENT_SOURCE] }),
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
  // The emulator's region and account, as it names the keys it created.
  const [, , , region, account] = keys.content.split(':') as string[];
  const routingEventsLogGroup = await routingEventsLog(
    { events, logs },
    eventBusName,
    stage,
    `${region}:${account}`,
  );
  return { eventBusName, announcements: announcements as string, keys, routingEventsLogGroup };
}

/** template.yaml's RoutingEventsLogGroup and RoutingEventsRule: routing.manager events into a log group. */
async function routingEventsLog(
  { events, logs }: Pick<Clients, 'events' | 'logs'>,
  eventBusName: string,
  stage: string,
  regionAndAccount: string,
): Promise<string> {
  const logGroupName = `/aws/events/RoutingManager-${stage}`;
  await logs.send(new CreateLogGroupCommand({ logGroupName }));
  const ruleName = `RoutingManager-Events-${stage}`;
  await events.send(
    new PutRuleCommand({
      Name: ruleName,
      EventBusName: eventBusName,
      EventPattern: JSON.stringify({ source: [ANNOUNCEMENT_SOURCE] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: ruleName,
      EventBusName: eventBusName,
      Targets: [{ Id: 'log-group', Arn: `arn:aws:logs:${regionAndAccount}:log-group:${logGroupName}` }],
    }),
  );
  return logGroupName;
}
