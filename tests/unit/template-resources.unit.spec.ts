import { describe, expect, it } from 'vitest';
import {
  queueDefinition,
  queueEventSources,
  queueRuleDefinition,
  tableDefinition,
  templateResources,
} from '../../src/local/template-resources.ts';
import {
  parseTemplate,
  readTemplate,
  TemplateError,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';

const local = (parameters: Record<string, string> = {}) =>
  new TemplateEvaluator(readTemplate(), { parameters: { Stage: 'loc', ...parameters } });

describe('template.yaml as local resources', () => {
  it('given only a stage, every table and queue the template creates is provisioned, the ecosystem ones included', () => {
    const { tables, queues } = templateResources(local());
    expect(tables.map((t) => t.input.TableName)).toEqual(
      expect.arrayContaining(['RoutingLog-loc', 'RoutingEffects-loc', 'Jobs-loc', 'Credits-loc']),
    );
    expect(queues.map((q) => q.name)).toEqual(
      expect.arrayContaining([
        'FalJobQueue-loc',
        'FalJobQueue-DLQ-loc',
        'ReplicateJobQueue-loc',
        'ReplicateJobQueue-DLQ-loc',
        'RoutingRouter-DLQ-loc',
        'RoutingProjector-OnFailure-loc',
      ]),
    );
  });

  it('the routing log keeps its keys, audit index and stream, with the stream enabled as the API needs', () => {
    const { input, timeToLiveAttribute } = tableDefinition(local(), 'RoutingLogTable');
    expect(input).toMatchObject({
      TableName: 'RoutingLog-loc',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'byProviderTimeKeys' })],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    });
    expect(input).not.toHaveProperty('SSESpecification');
    expect(timeToLiveAttribute).toBeNull();
  });

  it('the effect markers table carries its TTL attribute', () => {
    expect(tableDefinition(local(), 'RoutingEffectsTable').timeToLiveAttribute).toBe('expiresAt');
  });

  it('a provider queue keeps retention, message size and its redrive to the DLQ; encryption is not emulated', () => {
    expect(queueDefinition(local({ ProviderQueueMaxMessageBytes: '1048576' }), 'FalJobQueue')).toEqual({
      logicalId: 'FalJobQueue',
      name: 'FalJobQueue-loc',
      attributes: { MessageRetentionPeriod: '345600', MaximumMessageSize: '1048576' },
      redrive: { deadLetterLogicalId: 'FalJobDeadLetterQueue', maxReceiveCount: 5 },
    });
  });

  it('the signal queue, its DLQ and the rule into it are provisioned as the template declares them', () => {
    const { queues, queueRules } = templateResources(local());
    expect(queueDefinition(local(), 'HealthSignalsQueue')).toEqual({
      logicalId: 'HealthSignalsQueue',
      name: 'RoutingHealthSignals-loc',
      attributes: {
        VisibilityTimeout: '185',
        MessageRetentionPeriod: '345600',
        ReceiveMessageWaitTimeSeconds: '20',
      },
      redrive: { deadLetterLogicalId: 'HealthSignalsDeadLetterQueue', maxReceiveCount: 5 },
    });
    expect(queues.map((q) => q.name)).toContain('RoutingHealthSignals-DLQ-loc');
    expect(queueRules).toEqual([
      {
        logicalId: 'HealthSignalsRule',
        name: 'RoutingManager-HealthSignals-loc',
        eventPattern: {
          source: ['provider.invoker'],
          'detail-type': ['provider.attempt.completed', 'provider.status.changed', 'provider.job.started'],
        },
        queueLogicalId: 'HealthSignalsQueue',
      },
    ]);
  });

  it('a rule whose target is a function or a log group is not a queue rule (the runner wires those)', () => {
    expect(queueRuleDefinition(local(), 'JobSubmittedRule')).toBeNull();
    expect(queueRuleDefinition(local(), 'RoutingEventsRule')).toBeNull();
  });

  it('the functions polled from a queue are read with the batch size their event source sets', () => {
    expect(queueEventSources(local())).toEqual([
      { functionLogicalId: 'HealthSignalsFunction', queueLogicalId: 'HealthSignalsQueue', batchSize: 100 },
      { functionLogicalId: 'HoldsFunction', queueLogicalId: 'HoldQueue', batchSize: 10 },
    ]);
  });

  it('given existing queues and tables, the local stack does not create them either', () => {
    const { tables, queues } = templateResources(
      local({ FalQueueName: 'F', ReplicateQueueName: 'R', JobsTableName: 'J1', CreditsTableName: 'C1' }),
    );
    expect(tables.map((t) => t.logicalId)).not.toEqual(expect.arrayContaining(['JobsTable']));
    expect(tables.map((t) => t.logicalId)).not.toContain('CreditsTable');
    expect(queues.map((q) => q.logicalId)).not.toContain('FalJobQueue');
    expect(queues.map((q) => q.logicalId)).not.toContain('ReplicateJobDeadLetterQueue');
  });
});

describe('template resources the local stack cannot reproduce', () => {
  const evaluator = (resources: string) =>
    new TemplateEvaluator(parseTemplate(`Parameters: {}\nResources:\n${resources}`), { parameters: {} });

  it('a property it does not know is an error naming it, never silently dropped', () => {
    const template = evaluator(`
  T:
    Type: AWS::DynamoDB::Table
    Properties: { TableName: t, KeySchema: [], AttributeDefinitions: [], KinesisStreamSpecification: {} }
  Q:
    Type: AWS::SQS::Queue
    Properties: { QueueName: q, Surprise: 1 }
`);
    expect(() => tableDefinition(template, 'T')).toThrow(/T: KinesisStreamSpecification not provisioned/);
    expect(() => queueDefinition(template, 'Q')).toThrow(TemplateError);
  });

  it('a redrive to a queue outside the template is refused', () => {
    const template = evaluator(`
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: q
      RedrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:elsewhere', maxReceiveCount: 3 }
`);
    expect(() => queueDefinition(template, 'Q')).toThrow(/RedrivePolicy must target a queue of the template/);
  });

  it('local secondary indexes and a redrive-allow policy are carried over', () => {
    const template = evaluator(`
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: t
      KeySchema: [{ AttributeName: a, KeyType: HASH }]
      AttributeDefinitions: [{ AttributeName: a, AttributeType: S }]
      LocalSecondaryIndexes:
        - { IndexName: l, KeySchema: [], Projection: { ProjectionType: KEYS_ONLY }, Extra: x }
  Q:
    Type: AWS::SQS::Queue
    Properties: { QueueName: q, FifoQueue: true, RedriveAllowPolicy: { redrivePermission: denyAll } }
`);
    expect(tableDefinition(template, 'T').input.LocalSecondaryIndexes).toEqual([
      { IndexName: 'l', KeySchema: [], Projection: { ProjectionType: 'KEYS_ONLY' } },
    ]);
    expect(queueDefinition(template, 'Q').attributes).toEqual({
      FifoQueue: 'true',
      RedriveAllowPolicy: '{"redrivePermission":"denyAll"}',
    });
  });
});
