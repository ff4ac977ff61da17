/**
 * Least privilege and operational settings of template.yaml, checked on the template itself.
 *
 * Parsing: the project has no YAML package for Node, and CloudFormation's short-form tags (!Sub,
 * !GetAtt, ...) need a schema anyway, so the template is decoded by cfn-lint's own CloudFormation
 * YAML decoder from the project venv (.venv, installed by scripts/setup.sh) into the long form
 * (`{"Fn::Sub": ...}`). Intrinsics are then evaluated here with concrete parameter values, so the
 * expectations below read as the ARNs a deployment would really grant.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_METRIC_NAME, HEARTBEAT_NAMESPACE } from '../../src/config/heartbeat-config.ts';
import { STAGE_PATTERN } from '../../src/config/load-config.ts';

type Node = unknown;
type Dict = Record<string, Node>;
interface Resource {
  Type: string;
  Properties?: Dict;
  Metadata?: Dict;
}
interface Template {
  Parameters: Record<string, Dict>;
  Conditions: Record<string, Node>;
  Globals: { Function: Dict };
  Resources: Record<string, Resource>;
  Outputs: Record<string, Dict>;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: Node;
  NotResource?: unknown;
  Condition?: Dict;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const python = `${projectRoot}.venv/bin/python`;

function decodeTemplate(): Template {
  if (!existsSync(python))
    throw new Error(`${python} not found: run \`bash scripts/setup.sh\` (installs cfn-lint)`);
  const script = [
    'import json, sys',
    'from cfnlint.decode import decode',
    'template, matches = decode(sys.argv[1])',
    'if matches: sys.exit("\\n".join(str(m) for m in matches))',
    'print(json.dumps(template))',
  ].join('\n');
  return JSON.parse(
    execFileSync(python, ['-c', script, `${projectRoot}template.yaml`], { encoding: 'utf8' }),
  );
}

// ------------------------------------------------------------------ a small intrinsic evaluator
const pseudo: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::StackName': 'routing-manager-prod',
};
const FAL_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/FalJobQueue';
const REPLICATE_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/444455556666/ReplicateJobQueue.fifo';
const NO_VALUE = Symbol('AWS::NoValue');

class Evaluator {
  readonly template: Template;
  readonly parameters: Record<string, string>;
  constructor(template: Template, overrides: Record<string, string>) {
    this.template = template;
    const defaults = Object.fromEntries(
      Object.entries(template.Parameters)
        .filter(([, p]) => p.Default !== undefined)
        .map(([name, p]) => [name, String(p.Default)]),
    );
    this.parameters = { ...defaults, ...overrides };
  }

  condition(name: string): boolean {
    const definition = this.template.Conditions[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    return this.truth(definition);
  }

  truth(node: Node): boolean {
    const [fn, args] = Object.entries(node as Dict)[0] ?? [];
    const list = args as Node[];
    switch (fn) {
      case 'Fn::Equals':
        return this.value(list[0]) === this.value(list[1]);
      case 'Fn::Not':
        return !this.truth(list[0]);
      case 'Fn::And':
        return list.every((n) => this.truth(n));
      case 'Fn::Or':
        return list.some((n) => this.truth(n));
      case 'Condition':
        return this.condition(args as string);
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  }

  /** Evaluates intrinsics; resources' own attributes stay symbolic: `<Logical.Attr>` / `<Logical>`. */
  value(node: Node): unknown {
    if (Array.isArray(node)) return node.map((n) => this.value(n)).filter((v) => v !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Dict);
    const [fn, args] = entries[0] ?? [];
    if (
      entries.length === 1 &&
      fn !== undefined &&
      (fn === 'Ref' || fn === 'Condition' || fn.startsWith('Fn::'))
    ) {
      return this.intrinsic(fn, args);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.value(v)]).filter(([, v]) => v !== NO_VALUE));
  }

  string(node: Node): string {
    const value = this.value(node);
    if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
    return value;
  }

  intrinsic(fn: string, args: Node): unknown {
    const list = args as Node[];
    switch (fn) {
      case 'Ref': {
        const name = args as string;
        if (name === 'AWS::NoValue') return NO_VALUE;
        if (name in pseudo) return pseudo[name];
        if (name in this.parameters) return this.parameters[name];
        if (name in this.template.Resources) return `<${name}>`;
        throw new Error(`Ref to unknown ${name}`);
      }
      case 'Fn::GetAtt': {
        const [logical, attribute] = typeof args === 'string' ? args.split('.') : (list as string[]);
        if (!logical || !(logical in this.template.Resources))
          throw new Error(`GetAtt of unknown ${logical}`);
        return `<${logical}.${attribute}>`;
      }
      case 'Fn::If':
        return this.value(this.condition(list[0] as string) ? list[1] : list[2]);
      case 'Fn::Split':
        return this.string(list[1]).split(list[0] as string);
      case 'Fn::Select': {
        const items = this.value(list[1]) as unknown[];
        return items[Number(this.value(list[0]))];
      }
      case 'Fn::Join':
        return (this.value(list[1]) as string[]).join(list[0] as string);
      case 'Fn::Sub': {
        const [text, variables] = typeof args === 'string' ? [args, {}] : (list as [string, Dict]);
        return text.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
          if (name in variables) return this.string(variables[name]);
          if (name.includes('.')) return this.string({ 'Fn::GetAtt': name });
          return this.string({ Ref: name });
        });
      }
      default:
        throw new Error(`unsupported intrinsic ${fn}`);
    }
  }
}

// ------------------------------------------------------------------ IAM helpers
const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function roleStatements(template: Template, evaluator: Evaluator, roleLogicalId: string): Statement[] {
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
  const policies = (role.Properties?.Policies ?? []) as Dict[];
  return policies.flatMap(
    (policy) => (evaluator.value(policy.PolicyDocument) as { Statement: Statement[] }).Statement,
  );
}

/** Returns a description of every statement broader than allowed; empty means least privilege. */
function broadStatements(statements: Statement[]): string[] {
  const problems: string[] = [];
  for (const statement of statements) {
    const label = statement.Sid ?? JSON.stringify(statement);
    const actions = asList(statement.Action);
    const resources = asList(statement.Resource as string | string[]);
    if (statement.Effect !== 'Allow') problems.push(`${label}: Effect ${statement.Effect}`);
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
      problems.push(`${label}: NotAction/NotResource`);
    }
    if (actions.length === 0 || resources.length === 0) problems.push(`${label}: no Action or no Resource`);
    for (const action of actions)
      if (action.includes('*')) problems.push(`${label}: wildcard action ${action}`);
    for (const resource of resources) {
      if (typeof resource !== 'string')
        problems.push(`${label}: unresolved resource ${JSON.stringify(resource)}`);
      else if (resource.includes('*')) {
        const namespacePinned =
          (statement.Condition?.StringEquals as Dict | undefined)?.['cloudwatch:namespace'] ===
          HEARTBEAT_NAMESPACE;
        const isMetricPublish = actions.length === 1 && actions[0] === 'cloudwatch:PutMetricData';
        if (!(resource === '*' && isMetricPublish && namespacePinned)) {
          problems.push(`${label}: wildcard resource ${resource} for ${actions.join(',')}`);
        }
      }
    }
  }
  return problems;
}

/** action → sorted resources it is granted on. */
function grants(statements: Statement[]): Record<string, string[]> {
  const byAction: Record<string, Set<string>> = {};
  for (const statement of statements) {
    for (const action of asList(statement.Action)) {
      byAction[action] ??= new Set();
      for (const resource of asList(statement.Resource as string | string[])) byAction[action].add(resource);
    }
  }
  return Object.fromEntries(
    Object.entries(byAction)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, resources]) => [action, [...resources].sort()]),
  );
}

// ------------------------------------------------------------------ the template under test
let template: Template;
let prod: Evaluator;
const functions = [
  'RouterFunction',
  'ProjectorFunction',
  'HeartbeatFunction',
  'HealthSignalsFunction',
] as const;
type FunctionId = (typeof functions)[number];
const fn = (id: FunctionId) => template.Resources[id] as Resource & { Properties: Dict };
const effective = (id: FunctionId, property: string) =>
  fn(id).Properties[property] ?? template.Globals.Function[property];
const roleOf = (id: FunctionId) =>
  (fn(id).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  template = decodeTemplate();
  prod = new Evaluator(template, {
    Stage: 'prod',
    FalQueueUrl: FAL_QUEUE_URL,
    ReplicateQueueUrl: REPLICATE_QUEUE_URL,
  });
});

const logs = (logGroup: string) => ({
  'logs:CreateLogStream': [`<${logGroup}.Arn>`],
  'logs:PutLogEvents': [`<${logGroup}.Arn>`],
});

const expectedGrants: Record<FunctionId, Record<string, string[]>> = {
  RouterFunction: {
    ...logs('RouterLogGroup'),
    'dynamodb:GetItem': ['arn:aws:dynamodb:us-east-1:123456789012:table/Credits-prod'],
    'dynamodb:PutItem': ['<RoutingLogTable.Arn>'],
    'sqs:SendMessage': ['<RouterOnFailureQueue.Arn>'],
  },
  ProjectorFunction: {
    ...logs('ProjectorLogGroup'),
    'dynamodb:BatchGetItem': ['<RoutingEffectsTable.Arn>'],
    'dynamodb:BatchWriteItem': ['<RoutingEffectsTable.Arn>'],
    'dynamodb:DescribeStream': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:GetRecords': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:GetShardIterator': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:ListStreams': ['<RoutingLogTable.StreamArn>'],
    'dynamodb:UpdateItem': ['arn:aws:dynamodb:us-east-1:123456789012:table/Jobs-prod'],
    'events:PutEvents': ['arn:aws:events:us-east-1:123456789012:event-bus/default'],
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
    'dynamodb:GetItem': ['<ProviderHealthTable.Arn>'],
    'dynamodb:PutItem': ['<ProviderHealthTable.Arn>', '<RoutingLogTable.Arn>'],
    'sqs:SendMessage': ['<HealthSignalsDeadLetterQueue.Arn>'],
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

  it('the template declares no other IAM policy resources that could widen a role', () => {
    const policyTypes = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group'];
    expect(Object.values(template.Resources).filter((r) => policyTypes.includes(r.Type))).toEqual([]);
  });

  it.each(functions)('%s: no statement is broader than the code needs', (id) => {
    expect(broadStatements(roleStatements(template, prod, roleOf(id)))).toEqual([]);
  });

  it.each(functions)('%s: granted actions and resources equal the allow-list exactly', (id) => {
    expect(grants(roleStatements(template, prod, roleOf(id)))).toEqual(expectedGrants[id]);
  });

  it('custom Jobs/Credits table names replace the <Name>-<Stage> defaults in the grants', () => {
    const custom = new Evaluator(template, {
      Stage: 'prod',
      FalQueueUrl: FAL_QUEUE_URL,
      ReplicateQueueUrl: REPLICATE_QUEUE_URL,
      JobsTableName: 'jobs-legacy',
      CreditsTableName: 'credits-legacy',
    });
    expect(grants(roleStatements(template, custom, 'RouterRole'))['dynamodb:GetItem']).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/credits-legacy',
    ]);
    expect(grants(roleStatements(template, custom, 'ProjectorRole'))['dynamodb:UpdateItem']).toContain(
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
    '%s: Node 22/24 runtime, 256 MB, 30 s, arm64, JSON logs into its own log group',
    (id) => {
      expect(['nodejs22.x', 'nodejs24.x']).toContain(effective(id, 'Runtime'));
      expect(effective(id, 'MemorySize')).toBe(256);
      expect(effective(id, 'Timeout')).toBe(30);
      expect(effective(id, 'Architectures')).toEqual(['arm64']);
      expect(effective(id, 'Tracing') ?? 'PassThrough').not.toBe('Active'); // Active would need xray:* on "*"
      const logging = prod.value(effective(id, 'LoggingConfig')) as Dict;
      expect(logging.LogFormat).toBe('JSON');
      expect(template.Resources[String(logging.LogGroup).slice(1, -1)]?.Type).toBe('AWS::Logs::LogGroup');
    },
  );

  it.each(functions)('%s: esbuild bundles exactly its handler as minified ESM with source maps', (id) => {
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
      EntryPoints: [`handlers/${name}.ts`],
      Format: 'esm',
      OutExtension: ['.js=.mjs'],
      Minify: true,
      Sourcemap: true,
    });
    expect(fn(id).Properties.Handler).toBe(`${name}.handler`);
  });

  it.each([
    ['RouterFunction', ['STAGE', 'EVENT_LOG_TABLE', 'CREDITS_TABLE', 'POWERTOOLS_SERVICE_NAME', 'LOG_LEVEL']],
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
      ],
    ],
    ['HeartbeatFunction', ['STAGE', 'EVENT_LOG_TABLE']],
    ['HealthSignalsFunction', ['STAGE', 'EVENT_LOG_TABLE', 'PROVIDER_HEALTH_TABLE']],
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

  it('routes provider.invoker attempt and status signals to HealthSignals, whose log appends stay in health# streams', () => {
    const rule = prod.value(template.Resources.HealthSignalsRule?.Properties) as Dict & { Targets: Dict[] };
    expect(rule.EventPattern).toEqual({
      source: ['provider.invoker'],
      'detail-type': ['provider.attempt.completed', 'provider.status.changed'],
    });
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: '<HealthSignalsFunction.Arn>',
        DeadLetterConfig: { Arn: '<HealthSignalsDeadLetterQueue.Arn>' },
      }),
    ]);
    const append = roleStatements(template, prod, 'HealthSignalsRole').find(
      (statement) => statement.Sid === 'AppendHealthTransition',
    );
    expect(append?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['health#*'] },
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
});

describe('template: tables', () => {
  it('the routing log is keyed (stream, version), streams NEW_IMAGE, has the byProviderTime index, PITR and SSE', () => {
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
          IndexName: 'byProviderTime',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
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

  it('deletion protection is off only for the dev stage', () => {
    const dev = new Evaluator(template, {
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

  it('notifies AlarmTopicArn when given, and has no actions when it is empty', () => {
    const withTopic = new Evaluator(template, {
      Stage: 'prod',
      FalQueueUrl: FAL_QUEUE_URL,
      ReplicateQueueUrl: REPLICATE_QUEUE_URL,
      AlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:oncall',
    });
    for (const [, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      expect(withTopic.value(alarm.Properties)).toMatchObject({
        AlarmActions: ['arn:aws:sns:us-east-1:123456789012:oncall'],
        OKActions: ['arn:aws:sns:us-east-1:123456789012:oncall'],
      });
      const silent = prod.value(alarm.Properties) as Dict;
      expect(silent.AlarmActions).toBeUndefined();
      expect(silent.OKActions).toBeUndefined();
    }
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
