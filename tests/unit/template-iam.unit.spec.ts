/**
 * Least privilege and operational settings of template.yaml, checked on the template itself.
 *
 * The template is read and its intrinsics evaluated with concrete parameter values by
 * src/template/cloudformation-template.ts (the module the local stack provisions from), so the
 * expectations below read as the ARNs a deployment would really grant.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_METRIC_NAME, HEARTBEAT_NAMESPACE } from '../../src/config/heartbeat-config.ts';
import { STAGE_PATTERN } from '../../src/config/load-config.ts';
import {
  type CloudFormationTemplate,
  type TemplateDict as Dict,
  type TemplateResource as Resource,
  readTemplate,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';
import { broadStatements, grants, roleStatements, type Statement } from '../support/template-policies.ts';

type Template = CloudFormationTemplate;

const FAL_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/FalJobQueue';
const REPLICATE_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/444455556666/ReplicateJobQueue.fifo';

/** The template evaluated for a deployment with these parameters (account 123456789012, us-east-1). */
const deployment = (parameters: Record<string, string>) => new TemplateEvaluator(template, { parameters });
type Evaluator = TemplateEvaluator;

// ------------------------------------------------------------------ the template under test
let template: Template;
let prod: Evaluator;
const functions = [
  'RouterFunction',
  'ProjectorFunction',
  'HeartbeatFunction',
  'HealthSignalsFunction',
  'HoldsFunction',
  'WindowCloserFunction',
] as const;
type FunctionId = (typeof functions)[number];
const fn = (id: FunctionId) => template.Resources[id] as Resource & { Properties: Dict };
const effective = (id: FunctionId, property: string) =>
  fn(id).Properties[property] ?? template.Globals.Function[property];
const roleOf = (id: FunctionId) =>
  (fn(id).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  template = readTemplate();
  // Everything referenced, as on a platform account (the created branch: template-first-deploy spec).
  prod = deployment({
    Stage: 'prod',
    FalQueueUrl: FAL_QUEUE_URL,
    ReplicateQueueUrl: REPLICATE_QUEUE_URL,
    JobsTableName: 'Jobs-prod',
    CreditsTableName: 'Credits-prod',
    AlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:oncall',
  });
});

const logs = (logGroup: string) => ({
  'logs:CreateLogStream': [`<${logGroup}.Arn>`],
  'logs:PutLogEvents': [`<${logGroup}.Arn>`],
});

const expectedGrants: Record<FunctionId, Record<string, string[]>> = {
  RouterFunction: {
    ...logs('RouterLogGroup'),
    'dynamodb:BatchGetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:GetItem': [
      '<ProviderHealthTable.Arn>',
      '<RoutingContentTable.Arn>',
      'arn:aws:dynamodb:us-east-1:123456789012:table/Credits-prod',
    ],
    'dynamodb:PutItem': ['<ProviderHealthTable.Arn>', '<RoutingContentTable.Arn>', '<RoutingLogTable.Arn>'],
    'dynamodb:Query': ['<RoutingLogTable.Arn>'],
    'dynamodb:UpdateItem': ['<ProviderHealthTable.Arn>'],
    'kms:GenerateDataKey': ['<ContentKey.Arn>'],
    'kms:GenerateMac': ['<PayloadHashKey.Arn>'],
    'sqs:SendMessage': ['<HoldQueue.Arn>', '<RouterOnFailureQueue.Arn>'],
  },
  ProjectorFunction: {
    ...logs('ProjectorLogGroup'),
    'dynamodb:BatchGetItem': [
      '<RoutingContentTable.Arn>',
      '<RoutingEffectsTable.Arn>',
      'arn:aws:dynamodb:us-east-1:123456789012:table/Jobs-prod',
    ],
    'dynamodb:BatchWriteItem': ['<RoutingContentTable.Arn>', '<RoutingEffectsTable.Arn>'],
    'dynamodb:DescribeStream': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:GetRecords': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:GetShardIterator': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:ListStreams': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:PartiQLInsert': [
      '<RoutingContentTable.Arn>',
      'arn:aws:dynamodb:us-east-1:123456789012:table/Jobs-prod',
    ],
    'dynamodb:PartiQLUpdate': ['arn:aws:dynamodb:us-east-1:123456789012:table/Jobs-prod'],
    'events:PutEvents': ['arn:aws:events:us-east-1:123456789012:event-bus/default'],
    'kms:Decrypt': ['<ContentKey.Arn>'],
    'sqs:SendMessage': [
      '<ProjectorOnFailureQueue.Arn>',
      'arn:aws:sqs:eu-west-1:111122223333:FalJobQueue',
      'arn:aws:sqs:us-east-1:444455556666:ReplicateJobQueue.fifo',
    ],
  },
  HeartbeatFunction: {
    ...logs('HeartbeatLogGroup'),
    'cloudwatch:PutMetricData': ['*'],
    'dynamodb:DescribeTable': ['<RoutingLogTable.Arn>'],
  },
  HealthSignalsFunction: {
    ...logs('HealthSignalsLogGroup'),
    'dynamodb:BatchGetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:GetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:PutItem': ['<ProviderHealthTable.Arn>', '<RoutingLogTable.Arn>'],
    'dynamodb:Query': ['<RoutingLogTable.Arn>'],
    'dynamodb:UpdateItem': ['<ProviderHealthTable.Arn>'],
    'sqs:DeleteMessage': ['<HealthSignalsQueue.Arn>'],
    'sqs:GetQueueAttributes': ['<HealthSignalsQueue.Arn>'],
    'sqs:ReceiveMessage': ['<HealthSignalsQueue.Arn>'],
    'sqs:SendMessage': ['<HoldQueue.Arn>'],
  },
  HoldsFunction: {
    ...logs('HoldsLogGroup'),
    'dynamodb:BatchGetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:GetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:PutItem': ['<ProviderHealthTable.Arn>', '<RoutingLogTable.Arn>'],
    'dynamodb:Query': ['<RoutingLogTable.Arn>'],
    'dynamodb:UpdateItem': ['<ProviderHealthTable.Arn>'],
    'sqs:DeleteMessage': ['<HoldQueue.Arn>'],
    'sqs:GetQueueAttributes': ['<HoldQueue.Arn>'],
    'sqs:ReceiveMessage': ['<HoldQueue.Arn>'],
    'sqs:SendMessage': ['<HoldQueue.Arn>'],
  },
  WindowCloserFunction: {
    ...logs('WindowCloserLogGroup'),
    'dynamodb:BatchGetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:GetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:PutItem': ['<ProviderHealthTable.Arn>', '<RoutingLogTable.Arn>'],
    'dynamodb:Query': ['<RoutingLogTable.Arn>'],
    'dynamodb:UpdateItem': ['<ProviderHealthTable.Arn>'],
  },
};

describe('template IAM: least privilege', () => {
  it('the broad-statement check itself flags wildcards, and tolerates only the namespace-pinned PutMetricData', () => {
    const pinned = { StringEquals: { 'cloudwatch:namespace': HEARTBEAT_NAMESPACE } };
    expect(
      broadStatements([{ Sid: 'a', Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:x' }]),
    ).toHaveLength(1);
    expect(
      broadStatements([{ Sid: 'b', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }]),
    ).toHaveLength(1);
    expect(
      broadStatements([{ Sid: 'c', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*' }]),
    ).toHaveLength(1);
    expect(
      broadStatements([
        {
          Sid: 'd',
          Effect: 'Allow',
          Action: ['cloudwatch:PutMetricData', 'logs:*'],
          Resource: '*',
          Condition: pinned,
        },
      ]),
    ).not.toHaveLength(0);
    expect(
      broadStatements([
        { Sid: 'e', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: pinned },
      ]),
    ).toEqual([]);
  });

  it.each(functions)('%s runs under its own explicit role, so SAM attaches no managed policy', (id) => {
    expect(fn(id).Properties.Policies).toBeUndefined();
    expect(template.Resources[roleOf(id)]?.Type).toBe('AWS::IAM::Role');
    expect(template.Resources[roleOf(id)]?.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(template.Resources[roleOf(id)]?.Properties?.PermissionsBoundary).toBeUndefined();
    const otherUsers = functions.filter((other) => other !== id && roleOf(other) === roleOf(id));
    expect(otherUsers).toEqual([]);
  });

  it("the template declares no other IAM policy resources that could widen a role: only the operators' managed policy, attached to nothing", () => {
    const policyTypes = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group'];
    const declared = Object.entries(template.Resources).filter(([, r]) => policyTypes.includes(r.Type));
    expect(declared.map(([id]) => id)).toEqual(['OperatorContentPolicy']);
    const properties = template.Resources.OperatorContentPolicy?.Properties ?? {};
    for (const attachment of ['Roles', 'Users', 'Groups']) expect(properties).not.toHaveProperty(attachment);
  });

  it.each(functions)('%s: no statement is broader than the code needs', (id) => {
    expect(broadStatements(roleStatements(template, prod, roleOf(id)))).toEqual([]);
  });

  it.each(functions)('%s: granted actions and resources equal the allow-list exactly', (id) => {
    expect(grants(roleStatements(template, prod, roleOf(id)))).toEqual(expectedGrants[id]);
  });

  it('given Jobs/Credits table names are the tables the grants name', () => {
    const custom = deployment({
      Stage: 'prod',
      FalQueueUrl: FAL_QUEUE_URL,
      ReplicateQueueUrl: REPLICATE_QUEUE_URL,
      JobsTableName: 'jobs-legacy',
      CreditsTableName: 'credits-legacy',
    });
    expect(grants(roleStatements(template, custom, 'RouterRole'))['dynamodb:GetItem']).toEqual([
      '<ProviderHealthTable.Arn>',
      '<RoutingContentTable.Arn>',
      'arn:aws:dynamodb:us-east-1:123456789012:table/credits-legacy',
    ]);
    expect(grants(roleStatements(template, custom, 'ProjectorRole'))['dynamodb:PartiQLUpdate']).toContain(
      'arn:aws:dynamodb:us-east-1:123456789012:table/jobs-legacy',
    );
  });

  it('every role can be assumed by Lambda only', () => {
    for (const id of functions) {
      const trust = prod.value(template.Resources[roleOf(id)]?.Properties?.AssumeRolePolicyDocument) as {
        Statement: Statement[];
      };
      expect(trust.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
  });

  it('the router DLQ accepts messages only from the submission rule', () => {
    const policy = prod.value(template.Resources.RouterDeadLetterQueuePolicy?.Properties) as {
      Queues: string[];
      PolicyDocument: { Statement: Statement[] & { Principal?: unknown }[] };
    };
    expect(policy.Queues).toEqual(['<RouterDeadLetterQueue>']);
    expect(policy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: '<RouterDeadLetterQueue.Arn>',
        Condition: { ArnEquals: { 'aws:SourceArn': '<JobSubmittedRule.Arn>' } },
      }),
    ]);
  });
});

describe('template: functions', () => {
  it.each(functions)(
    '%s: Node 22/24 runtime, 256 MB (the projector 512 MB: it is CPU-bound, docs/SCALE.md), 30 s (the window closer 60 s: it waits for windows to fall due), arm64, JSON logs into its own log group',
    (id) => {
      expect(['nodejs22.x', 'nodejs24.x']).toContain(effective(id, 'Runtime'));
      expect(effective(id, 'MemorySize')).toBe(id === 'ProjectorFunction' ? 512 : 256);
      expect(effective(id, 'Timeout')).toBe(id === 'WindowCloserFunction' ? 60 : 30);
      expect(effective(id, 'Architectures')).toEqual(['arm64']);
      expect(effective(id, 'Tracing') ?? 'PassThrough').not.toBe('Active'); // Active would need xray:* on "*"
      const logging = prod.value(effective(id, 'LoggingConfig')) as Dict;
      expect(logging.LogFormat).toBe('JSON');
      expect(template.Resources[String(logging.LogGroup).slice(1, -1)]?.Type).toBe('AWS::Logs::LogGroup');
    },
  );

  it.each(functions)(
    '%s: esbuild bundles exactly its handler, the SDK included, as minified ESM chunks with source maps',
    (id) => {
      const { BuildMethod, BuildProperties } = fn(id).Metadata as {
        BuildMethod: string;
        BuildProperties: Dict;
      };
      const name = id
        .replace('Function', '')
        .replace(/([a-z])([A-Z])/g, '$1-$2')
        .toLowerCase();
      expect(BuildMethod).toBe('esbuild');
      expect(BuildProperties).toMatchObject({
        EntryPoints: [`lambda/${name}.ts`],
        Format: 'esm',
        Splitting: true,
        OutExtension: ['.js=.mjs'],
        Minify: true,
        Sourcemap: true,
        SourcesContent: 'false',
      });
      expect(BuildProperties).not.toHaveProperty('External');
      expect(fn(id).Properties.Handler).toBe(`${name}.handler`);
    },
  );

  it.each([
    [
      'RouterFunction',
      [
        'STAGE',
        'EVENT_LOG_TABLE',
        'CREDITS_TABLE',
        'CONTENT_TABLE',
        'PROVIDER_HEALTH_TABLE',
        'POWERTOOLS_SERVICE_NAME',
        'LOG_LEVEL',
      ],
    ],
    [
      'ProjectorFunction',
      [
        'STAGE',
        'EVENT_LOG_TABLE',
        'EFFECTS_TABLE',
        'JOBS_TABLE',
        'FAL_QUEUE_URL',
        'REPLICATE_QUEUE_URL',
        'EVENT_BUS_NAME',
        'CONTENT_TABLE',
        'CONTENT_RETENTION_DAYS',
      ],
    ],
    ['HeartbeatFunction', ['STAGE', 'EVENT_LOG_TABLE']],
    ['HealthSignalsFunction', ['STAGE', 'EVENT_LOG_TABLE', 'PROVIDER_HEALTH_TABLE', 'HOLD_QUEUE_URL']],
    ['HoldsFunction', ['STAGE', 'EVENT_LOG_TABLE', 'PROVIDER_HEALTH_TABLE', 'HOLD_QUEUE_URL']],
    ['WindowCloserFunction', ['STAGE', 'EVENT_LOG_TABLE', 'PROVIDER_HEALTH_TABLE']],
  ] as const)('%s gets the environment its code reads', (id, variables) => {
    const own = ((fn(id).Properties.Environment as Dict | undefined)?.Variables ?? {}) as Dict;
    const global = ((template.Globals.Function.Environment as Dict).Variables ?? {}) as Dict;
    const environment = prod.value({ ...global, ...own }) as Record<string, string>;
    for (const variable of variables) expect(environment[variable], variable).toEqual(expect.any(String));
    expect(environment.STAGE).toBe('prod');
    expect(environment.EVENT_LOG_TABLE).toBe('<RoutingLogTable>');
    if (id === 'RouterFunction') expect(environment.POWERTOOLS_METRICS_NAMESPACE).toBe('RoutingManager');
    if (id === 'ProjectorFunction') {
      expect(environment).toMatchObject({ FAL_QUEUE_URL, REPLICATE_QUEUE_URL, JOBS_TABLE: 'Jobs-prod' });
    }
  });

  it('the Stage parameter pattern is the one the heartbeat config enforces', () => {
    expect(template.Parameters.Stage?.AllowedPattern).toBe(STAGE_PATTERN.source);
  });
});

describe('template: projector stream mapping', () => {
  const streamEvent = () => {
    const events = fn('ProjectorFunction').Properties.Events as Record<
      string,
      { Type: string; Properties: Dict }
    >;
    const dynamoEvents = Object.values(events).filter((event) => event.Type === 'DynamoDB');
    expect(dynamoEvents).toHaveLength(1);
    return prod.value(dynamoEvents[0]?.Properties) as Dict;
  };

  it('reads the routing log stream, INSERTs only, reporting partial batch failures', () => {
    const mapping = streamEvent();
    expect(mapping.Stream).toBe('<RoutingLogTable.StreamArn>');
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((filter) => JSON.parse(filter.Pattern))).toEqual([{ eventName: ['INSERT'] }]);
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping).toMatchObject({ BatchSize: 100, MaximumBatchingWindowInSeconds: 1 });
    expect(['TRIM_HORIZON', 'LATEST']).toContain(mapping.StartingPosition);
  });

  it('bisects failing batches, retries a finite number of times, then hands them to the on-failure queue', () => {
    const mapping = streamEvent();
    expect(mapping.BisectBatchOnFunctionError).toBe(true);
    expect(mapping.MaximumRetryAttempts).toEqual(expect.any(Number));
    expect(mapping.MaximumRetryAttempts as number).toBeGreaterThanOrEqual(0);
    expect(mapping.MaximumRetryAttempts as number).toBeLessThanOrEqual(100); // -1 would mean forever
    expect(mapping.MaximumRecordAgeInSeconds as number).toBeGreaterThan(0); // -1 would mean forever
    expect(mapping.MaximumRecordAgeInSeconds as number).toBeLessThanOrEqual(86_400);
    expect(mapping.DestinationConfig).toEqual({
      OnFailure: { Destination: '<ProjectorOnFailureQueue.Arn>' },
    });
    const queue = prod.value(template.Resources.ProjectorOnFailureQueue?.Properties) as Dict;
    expect(queue).toMatchObject({
      QueueName: 'RoutingProjector-OnFailure-prod',
      MessageRetentionPeriod: 1_209_600,
    });
  });
});

describe('template: router trigger', () => {
  it('routes frontend.api video.job.submitted to the router with bounded retries and a DLQ', () => {
    const rule = prod.value(template.Resources.JobSubmittedRule?.Properties) as Dict & { Targets: Dict[] };
    expect(rule.EventPattern).toEqual({ source: ['frontend.api'], 'detail-type': ['video.job.submitted'] });
    expect(rule.EventBusName).toBe('default');
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: '<RouterFunction.Arn>',
        RetryPolicy: {
          MaximumRetryAttempts: expect.any(Number),
          MaximumEventAgeInSeconds: expect.any(Number),
        },
        DeadLetterConfig: { Arn: '<RouterDeadLetterQueue.Arn>' },
      }),
    ]);
    const permission = prod.value(template.Resources.JobSubmittedRulePermission?.Properties);
    expect(permission).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: '<JobSubmittedRule.Arn>',
    });
  });

  it('routes provider.invoker attempt, start and status signals to HealthSignalsQueue, whose log appends stay in health# and job# streams', () => {
    const rule = prod.value(template.Resources.HealthSignalsRule?.Properties) as Dict & { Targets: Dict[] };
    expect(rule.EventPattern).toEqual({
      source: ['provider.invoker'],
      'detail-type': ['provider.attempt.completed', 'provider.status.changed', 'provider.job.started'],
    });
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: '<HealthSignalsQueue.Arn>',
        RetryPolicy: {
          MaximumRetryAttempts: expect.any(Number),
          MaximumEventAgeInSeconds: expect.any(Number),
        },
        DeadLetterConfig: { Arn: '<HealthSignalsDeadLetterQueue.Arn>' },
      }),
    ]);
    const append = roleStatements(template, prod, 'HealthSignalsRole').find(
      (statement) => statement.Sid === 'AppendHealthTransitionAndRevision',
    );
    expect(append?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['health#*', 'job#*'] },
    });
  });

  it('sends router invocations that fail after Lambda retries to the router on-failure queue', () => {
    const config = prod.value(template.Resources.RouterInvokeConfig?.Properties);
    expect(config).toMatchObject({
      FunctionName: '<RouterFunction>',
      DestinationConfig: { OnFailure: { Destination: '<RouterOnFailureQueue.Arn>' } },
    });
  });

  it('fires the heartbeat every five minutes without retrying a failed beat', () => {
    const events = fn('HeartbeatFunction').Properties.Events as Record<
      string,
      { Type: string; Properties: Dict }
    >;
    expect(Object.values(events).map((event) => [event.Type, event.Properties.Schedule])).toEqual([
      ['Schedule', 'rate(5 minutes)'],
    ]);
    expect(prod.value(template.Resources.HeartbeatInvokeConfig?.Properties)).toMatchObject({
      FunctionName: '<HeartbeatFunction>',
      MaximumRetryAttempts: 0,
    });
  });

  it('closes signal windows every minute, its run shorter than its timeout, without retrying a failed run', async () => {
    const events = fn('WindowCloserFunction').Properties.Events as Record<
      string,
      { Type: string; Properties: Dict }
    >;
    expect(Object.values(events).map((event) => [event.Type, event.Properties.Schedule])).toEqual([
      ['Schedule', 'rate(1 minute)'],
    ]);
    expect(prod.value(template.Resources.WindowCloserInvokeConfig?.Properties)).toMatchObject({
      FunctionName: '<WindowCloserFunction>',
      MaximumRetryAttempts: 0,
    });
    const { CLOSER_BUDGET_MS } = await import('../../src/handlers/window-closer.ts');
    expect(CLOSER_BUDGET_MS).toBeLessThan(
      (effective('WindowCloserFunction', 'Timeout') as number) * 1000 - 5_000,
    );
  });
});

describe('template: tables', () => {
  it('the routing log is keyed (stream, version), streams NEW_IMAGE, has the keys-only byProviderTimeKeys index, PITR and SSE', () => {
    const table = prod.value(template.Resources.RoutingLogTable?.Properties) as Dict;
    expect(table).toMatchObject({
      TableName: 'RoutingLog-prod',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byProviderTimeKeys',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
    expect(table.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'stream', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ]),
    );
  });

  it('given LegacyAuditIndex true (the first of two deploys of an older stack), the old full-copy index is kept beside the new one', () => {
    const migrating = deployment({ Stage: 'prod', LegacyAuditIndex: 'true' });
    const table = migrating.value(template.Resources.RoutingLogTable?.Properties) as Dict;
    expect(
      (table.GlobalSecondaryIndexes as Dict[]).map((index) => [index.IndexName, index.Projection]),
    ).toEqual([
      ['byProviderTimeKeys', { ProjectionType: 'KEYS_ONLY' }],
      ['byProviderTime', { ProjectionType: 'ALL' }],
    ]);
  });

  it('deletion protection is off only for the dev stage', () => {
    const dev = deployment({
      Stage: 'dev',
      FalQueueUrl: FAL_QUEUE_URL,
      ReplicateQueueUrl: FAL_QUEUE_URL,
    });
    for (const table of ['RoutingLogTable', 'RoutingEffectsTable']) {
      expect((dev.value(template.Resources[table]?.Properties) as Dict).DeletionProtectionEnabled).toBe(
        false,
      );
      expect((prod.value(template.Resources[table]?.Properties) as Dict).DeletionProtectionEnabled).toBe(
        true,
      );
    }
  });

  it('the effects table expires markers via expiresAt', () => {
    expect(prod.value(template.Resources.RoutingEffectsTable?.Properties)).toMatchObject({
      TableName: 'RoutingEffects-prod',
      KeySchema: [{ AttributeName: 'effectId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});

describe('template: alarms', () => {
  const alarms = () =>
    ofType('AWS::CloudWatch::Alarm').map(
      ([id, alarm]) => [id, prod.value(alarm.Properties) as Dict] as const,
    );
  const alarmOn = (namespace: string, metric: string, dimensionValue: string) =>
    alarms().find(
      ([, a]) =>
        a.Namespace === namespace &&
        a.MetricName === metric &&
        (a.Dimensions as { Value: string }[]).some((d) => d.Value === dimensionValue),
    )?.[1];

  it.each([
    ['router errors', 'AWS/Lambda', 'Errors', '<RouterFunction>', 'GreaterThanThreshold', 0],
    [
      'projector iterator age',
      'AWS/Lambda',
      'IteratorAge',
      '<ProjectorFunction>',
      'GreaterThanThreshold',
      60_000,
    ],
    [
      'router DLQ depth',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      '<RouterDeadLetterQueue.QueueName>',
      'GreaterThanThreshold',
      0,
    ],
    [
      'router on-failure depth',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      '<RouterOnFailureQueue.QueueName>',
      'GreaterThanThreshold',
      0,
    ],
    [
      'projector on-failure depth',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      '<ProjectorOnFailureQueue.QueueName>',
      'GreaterThanThreshold',
      0,
    ],
  ] as const)('alarms on %s', (_name, namespace, metric, dimension, operator, threshold) => {
    const alarm = alarmOn(namespace, metric, dimension);
    expect(alarm).toMatchObject({ ComparisonOperator: operator, Threshold: threshold });
  });

  it('alarms on a missing heartbeat: Sum < 1 over 2 × 5 minutes, missing data breaching', () => {
    expect(alarmOn(HEARTBEAT_NAMESPACE, HEARTBEAT_METRIC_NAME, 'prod')).toMatchObject({
      Dimensions: [{ Name: 'Stage', Value: 'prod' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 2,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('alarms on the rejection rate of a rules canary, from the metrics the router emits for it', () => {
    const canary = alarms().find(([id]) => id === 'CanaryRejectionsAlarm')?.[1] as {
      Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: Dict } }[];
      Threshold: number;
    };
    expect(canary.Threshold).toBe(5);
    expect(canary.Metrics.map((m) => m.MetricStat?.Metric.MetricName ?? m.Expression)).toEqual([
      'CanaryRejections',
      'CanaryDecisions',
      'IF(decided >= 20, 100 * rejected / decided, 0)',
    ]);
    expect(canary.Metrics[0]?.MetricStat?.Metric).toMatchObject({
      Namespace: 'RoutingManager',
      Dimensions: [
        { Name: 'service', Value: 'routing-manager' },
        { Name: 'stage', Value: 'prod' },
      ],
    });
  });

  it('the dashboard body is valid JSON once substituted and shows decisions, rejections and heartbeat', () => {
    const body = JSON.parse(prod.string(template.Resources.Dashboard?.Properties?.DashboardBody)) as {
      widgets: { properties: { title: string } }[];
    };
    expect(body.widgets.map((widget) => widget.properties.title)).toEqual(
      expect.arrayContaining(['Decisions per provider', 'Rejections by reason', 'Heartbeat']),
    );
  });
});
