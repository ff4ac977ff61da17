/**
 * The tables and queues of template.yaml as the API calls that create them on the emulators
 * (pure: no I/O). The template is the one definition: keys, indexes, streams, TTL, retention,
 * message size and redrive come from it. What an emulator cannot or need not reproduce is named
 * here (encryption, backups, deletion protection, tags); any other property is an error, so a
 * property added to the template is never silently left out of the local stack.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  type TemplateDict,
  TemplateError,
  type TemplateEvaluator,
} from '../template/cloudformation-template.ts';

export interface TableDefinition {
  readonly logicalId: string;
  readonly input: CreateTableCommandInput & { TableName: string };
  /** The TTL attribute, enabled after creation (UpdateTimeToLive), if the template sets one. */
  readonly timeToLiveAttribute: string | null;
}

export interface QueueDefinition {
  readonly logicalId: string;
  readonly name: string;
  /** CreateQueue attributes, except the redrive policy (the DLQ's ARN is known only once it exists). */
  readonly attributes: Record<string, string>;
  readonly redrive: { readonly deadLetterLogicalId: string; readonly maxReceiveCount: number } | null;
}

const TABLE_PROPERTIES_NOT_EMULATED = new Set([
  'BillingMode', // always on-demand locally
  'PointInTimeRecoverySpecification',
  'SSESpecification',
  'DeletionProtectionEnabled',
  'ContributorInsightsSpecification',
  'TableClass',
  'Tags',
  // IAM is not enforced by the emulators (DynamoDB Local has no principals); template tests check it.
  'ResourcePolicy',
]);

const QUEUE_PROPERTIES_NOT_EMULATED = new Set([
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'Tags',
]);

/** CloudFormation queue properties that are CreateQueue attributes of the same name. */
const QUEUE_ATTRIBUTES = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

function refuseUnknown(logicalId: string, properties: TemplateDict, known: ReadonlySet<string>) {
  const unknown = Object.keys(properties).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new TemplateError(
      `${logicalId}: ${unknown.join(', ')} not provisioned locally; map it in src/local/template-resources.ts`,
    );
  }
}

const TABLE_PROPERTIES = new Set([
  ...TABLE_PROPERTIES_NOT_EMULATED,
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'StreamSpecification',
  'TimeToLiveSpecification',
]);

type IndexDefinition = { IndexName: string; KeySchema: unknown; Projection: unknown };
const indexes = (value: unknown) =>
  (value as IndexDefinition[]).map(({ IndexName, KeySchema, Projection }) => ({
    IndexName,
    KeySchema,
    Projection,
  }));

export function tableDefinition(evaluator: TemplateEvaluator, logicalId: string): TableDefinition {
  const properties = evaluator.properties(logicalId);
  refuseUnknown(logicalId, properties, TABLE_PROPERTIES);
  const stream = properties.StreamSpecification as { StreamViewType: string } | undefined;
  const ttl = properties.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
  const input = {
    TableName: String(properties.TableName),
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: properties.AttributeDefinitions,
    KeySchema: properties.KeySchema,
    ...(properties.GlobalSecondaryIndexes
      ? { GlobalSecondaryIndexes: indexes(properties.GlobalSecondaryIndexes) }
      : {}),
    ...(properties.LocalSecondaryIndexes
      ? { LocalSecondaryIndexes: indexes(properties.LocalSecondaryIndexes) }
      : {}),
    // CloudFormation enables the stream by naming its view type; the API needs StreamEnabled too.
    ...(stream
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } }
      : {}),
  } as CreateTableCommandInput & { TableName: string };
  return { logicalId, input, timeToLiveAttribute: ttl?.Enabled ? ttl.AttributeName : null };
}

const QUEUE_PROPERTIES = new Set([
  ...QUEUE_PROPERTIES_NOT_EMULATED,
  ...QUEUE_ATTRIBUTES,
  'QueueName',
  'RedrivePolicy',
  'RedriveAllowPolicy',
]);

export function queueDefinition(evaluator: TemplateEvaluator, logicalId: string): QueueDefinition {
  const properties = evaluator.properties(logicalId);
  refuseUnknown(logicalId, properties, QUEUE_PROPERTIES);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties)) {
    if (QUEUE_ATTRIBUTES.has(name)) attributes[name] = String(value);
  }
  if (properties.RedriveAllowPolicy !== undefined) {
    attributes.RedriveAllowPolicy = JSON.stringify(properties.RedriveAllowPolicy);
  }
  const redrive = properties.RedrivePolicy as
    | { deadLetterTargetArn: string; maxReceiveCount: number }
    | undefined;
  return {
    logicalId,
    name: String(properties.QueueName),
    attributes,
    redrive: redrive ? deadLetterTarget(logicalId, redrive) : null,
  };
}

/** The evaluator leaves `GetAtt Dlq.Arn` symbolic (`<Dlq.Arn>`): that names the DLQ to create first. */
function deadLetterTarget(
  logicalId: string,
  redrive: { deadLetterTargetArn: string; maxReceiveCount: number },
) {
  const match = /^<([A-Za-z0-9]+)\.Arn>$/.exec(redrive.deadLetterTargetArn);
  if (!match?.[1]) {
    throw new TemplateError(
      `${logicalId}: RedrivePolicy must target a queue of the template (GetAtt <Queue>.Arn)`,
    );
  }
  return { deadLetterLogicalId: match[1], maxReceiveCount: Number(redrive.maxReceiveCount) };
}

/**
 * An EventBridge rule of the template whose target is a queue of the template (HealthSignalsRule →
 * HealthSignalsQueue): the local stack creates it on its own bus, so events put there reach the
 * queue as on AWS. Rules with other targets (a function, a log group) are wired by the local runner.
 */
export interface QueueRuleDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly eventPattern: Record<string, unknown>;
  readonly queueLogicalId: string;
}

/** The rule's definition when its one target is a template queue (`GetAtt <Queue>.Arn`), else null. */
export function queueRuleDefinition(
  evaluator: TemplateEvaluator,
  logicalId: string,
): QueueRuleDefinition | null {
  const properties = evaluator.properties(logicalId);
  const targets = (properties.Targets ?? []) as { Arn?: unknown }[];
  const queues = new Set(evaluator.resourcesOfType('AWS::SQS::Queue'));
  const [target] = targets;
  const match = typeof target?.Arn === 'string' ? /^<([A-Za-z0-9]+)\.Arn>$/.exec(target.Arn) : null;
  if (targets.length !== 1 || !match?.[1] || !queues.has(match[1])) return null;
  return {
    logicalId,
    name: String(properties.Name),
    eventPattern: properties.EventPattern as Record<string, unknown>,
    queueLogicalId: match[1],
  };
}

/** Every table and queue the template creates for the evaluator's parameters, and its rules into queues. */
export function templateResources(evaluator: TemplateEvaluator): {
  tables: TableDefinition[];
  queues: QueueDefinition[];
  queueRules: QueueRuleDefinition[];
} {
  return {
    tables: evaluator.resourcesOfType('AWS::DynamoDB::Table').map((id) => tableDefinition(evaluator, id)),
    queues: evaluator.resourcesOfType('AWS::SQS::Queue').map((id) => queueDefinition(evaluator, id)),
    queueRules: evaluator
      .resourcesOfType('AWS::Events::Rule')
      .map((id) => queueRuleDefinition(evaluator, id))
      .filter((rule) => rule !== null),
  };
}

/** A function's SQS event source in the template: the queue it drains and the records per batch. */
export interface QueueEventSourceDefinition {
  readonly functionLogicalId: string;
  readonly queueLogicalId: string;
  readonly batchSize: number;
}

/** Every SQS event source of the template's functions (the local runner polls each the same way). */
export function queueEventSources(evaluator: TemplateEvaluator): QueueEventSourceDefinition[] {
  return evaluator.resourcesOfType('AWS::Serverless::Function').flatMap((functionLogicalId) => {
    const events = (evaluator.properties(functionLogicalId).Events ?? {}) as Record<
      string,
      { Type?: unknown; Properties?: { Queue?: unknown; BatchSize?: unknown } }
    >;
    return Object.values(events).flatMap((event) => {
      const match =
        event.Type === 'SQS' && typeof event.Properties?.Queue === 'string'
          ? /^<([A-Za-z0-9]+)\.Arn>$/.exec(event.Properties.Queue)
          : null;
      if (!match?.[1]) return [];
      // Lambda's default batch size for a standard queue.
      const batchSize = Number(event.Properties?.BatchSize ?? 10);
      return [{ functionLogicalId, queueLogicalId: match[1], batchSize }];
    });
  });
}
