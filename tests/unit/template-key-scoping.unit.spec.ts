/**
 * Key-prefix scoping, event-source pinning and key management in template.yaml (issue 18,
 * docs/DATA_PROTECTION.md): every grant on a table whose keys carry a prefix names the prefixes the
 * code writes or reads (`dynamodb:LeadingKeys`), every PutEvents names its source, only the
 * projector and the operators' policy may unwrap content keys, and the content table denies reads
 * to untagged principals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudFormationTemplate,
  readTemplate,
  type TemplateDict,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';
import { roleStatements, type Statement } from '../support/template-policies.ts';

let template: CloudFormationTemplate;
let prod: TemplateEvaluator;
beforeAll(() => {
  template = readTemplate();
  prod = new TemplateEvaluator(template, { parameters: { Stage: 'prod' } });
});

const ROLES = [
  'RouterRole',
  'ProjectorRole',
  'HeartbeatRole',
  'HealthSignalsRole',
  'HoldsRole',
  'WindowCloserRole',
] as const;
/** Tables whose partition keys carry a kind prefix (job#, transit#, breaker#, …). */
const PREFIXED_TABLES = [
  '<RoutingLogTable.Arn>',
  '<RoutingContentTable.Arn>',
  '<ProviderHealthTable.Arn>',
  '<RoutingEffectsTable.Arn>',
];
/** Data-plane actions that name item keys (DescribeTable and stream reads do not). */
const KEYED =
  /^dynamodb:(GetItem|BatchGetItem|PutItem|UpdateItem|DeleteItem|BatchWriteItem|Query|Scan|PartiQL\w+)$/;

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const operatorStatements = (): Statement[] =>
  (
    prod.value(template.Resources.OperatorContentPolicy?.Properties?.PolicyDocument) as {
      Statement: Statement[];
    }
  ).Statement;

const allStatements = (): [string, Statement][] => [
  ...ROLES.flatMap((role) => roleStatements(template, prod, role).map((s): [string, Statement] => [role, s])),
  ...operatorStatements().map((s): [string, Statement] => ['OperatorContentPolicy', s]),
];

const leadingKeys = (statement: Statement): string[] | undefined => {
  const condition = statement.Condition as TemplateDict | undefined;
  const like = (condition?.['ForAllValues:StringLike'] as TemplateDict | undefined)?.['dynamodb:LeadingKeys'];
  const equals = (condition?.['ForAllValues:StringEquals'] as TemplateDict | undefined)?.[
    'dynamodb:LeadingKeys'
  ];
  return (like ?? equals) as string[] | undefined;
};

/** Grants the design needs table-wide (reads across every job), with why. */
const TABLE_WIDE = new Set([
  // history, replay and forget read any job's stream and the audit index.
  'OperatorContentPolicy/ReadRoutingLog',
  // forget finds a user's retained content by a scan (no per-job index write): a Scan names no key,
  // so it is scoped by the attributes it may touch instead (tested below).
  'OperatorContentPolicy/FindUserContent',
]);

describe('template: key-prefix scoping (dynamodb:LeadingKeys)', () => {
  it('every keyed grant on a prefixed table names its prefixes, unless the design reads table-wide', () => {
    const unscoped = allStatements().flatMap(([owner, statement]) => {
      const keyed = asList(statement.Action).some((action) => KEYED.test(action));
      const prefixed = asList(statement.Resource as string | string[]).some((r) =>
        PREFIXED_TABLES.includes(r),
      );
      return keyed && prefixed && !leadingKeys(statement) && !TABLE_WIDE.has(`${owner}/${statement.Sid}`)
        ? [`${owner}/${statement.Sid}`]
        : [];
    });
    expect(unscoped).toEqual([]);
  });

  it.each([
    ['RouterRole', 'AppendRoutingDecision', ['job#*', 'event#*']],
    ['RouterRole', 'ReadPublishedRules', ['rules#routing']],
    ['RouterRole', 'CreateTransitKeyAndHashSeed', ['transit#*', 'hash#*']],
    ['RouterRole', 'ReadHashSeed', ['hash#*']],
    ['RouterRole', 'ReadProviderHealth', ['breaker#*']],
    ['ProjectorRole', 'RecordEffectCompletion', ['job#*', 'event#*', 'health#*']],
    ['ProjectorRole', 'ReadTransitKeysAndRetainedContent', ['transit#*', 'job#*', 'event#*']],
    ['ProjectorRole', 'RetainAndEraseUserContent', ['job#*', 'event#*']],
    ['HealthSignalsRole', 'ReadAndCommitBreakerState', ['breaker#*', 'signal#*', 'success#*']],
    ['HealthSignalsRole', 'RaiseSuccessRegister', ['success#*']],
    ['HealthSignalsRole', 'AppendHealthTransitionAndRevision', ['health#*', 'job#*']],
    ['HealthSignalsRole', 'ReadJobStreamAndRules', ['job#*', 'rules#routing']],
    ['WindowCloserRole', 'CloseSignalWindows', ['window#*']],
    ['WindowCloserRole', 'JudgeWindowsOnBreaker', ['breaker#*']],
    ['WindowCloserRole', 'AppendHealthTransition', ['health#*']],
    ['WindowCloserRole', 'ReadPublishedRules', ['rules#routing']],
    ['HoldsRole', 'TakeSlotAndLeaveLine', ['slots#*']],
    ['HoldsRole', 'ReadProviderHealth', ['breaker#*']],
    ['HoldsRole', 'AppendDecisionAfterHold', ['job#*']],
    ['HoldsRole', 'ReadJobStreamAndRules', ['job#*', 'rules#routing']],
    ['OperatorContentPolicy', 'ReadTransitKeysAndRetainedContent', ['transit#*', 'job#*', 'event#*']],
    ['OperatorContentPolicy', 'EraseRetainedContent', ['job#*', 'event#*']],
    ['OperatorContentPolicy', 'AppendOperatorRecords', ['job#*', 'event#*']],
  ])('%s %s is limited to %j', (owner, sid, prefixes) => {
    const statement = allStatements().find(([o, s]) => o === owner && s.Sid === sid)?.[1];
    expect(statement, `${owner}/${sid}`).toBeDefined();
    expect(leadingKeys(statement as Statement)).toEqual(prefixes);
  });

  it("the operator's scan for a user's content may name only id and userId and must select them: no content, key or seed comes back", () => {
    const statement = allStatements().find(
      ([owner, s]) => owner === 'OperatorContentPolicy' && s.Sid === 'FindUserContent',
    )?.[1];
    expect(statement).toMatchObject({
      Action: 'dynamodb:Scan',
      Resource: '<RoutingContentTable.Arn>',
      Condition: {
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['id', 'userId'] },
        StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
      },
    });
    const scans = allStatements().filter(([, s]) => asList(s.Action).includes('dynamodb:Scan'));
    expect(scans.map(([owner, s]) => `${owner}/${s.Sid}`)).toEqual(['OperatorContentPolicy/FindUserContent']);
  });

  it('the router writes no retained content and no rules; the projector writes no key or seed', () => {
    const writes = (owner: string, table: string) =>
      allStatements()
        .filter(([o, s]) => o === owner && asList(s.Resource as string[]).includes(table))
        .filter(([, s]) => asList(s.Action).some((a) => /Put|Write|Update|Delete/.test(a)))
        .flatMap(([, s]) => leadingKeys(s) ?? ['<table-wide>']);
    expect(writes('RouterRole', '<RoutingContentTable.Arn>')).toEqual(['transit#*', 'hash#*']);
    expect(writes('RouterRole', '<RoutingLogTable.Arn>')).toEqual(['job#*', 'event#*']);
    expect(writes('ProjectorRole', '<RoutingContentTable.Arn>')).toEqual(['job#*', 'event#*']);
  });
});

describe('template: event sources', () => {
  it('every PutEvents grant names the source it may publish as', () => {
    const putEvents = allStatements().filter(([, s]) => asList(s.Action).includes('events:PutEvents'));
    expect(putEvents.length).toBeGreaterThan(0);
    for (const [owner, statement] of putEvents) {
      expect(statement.Condition, `${owner}/${statement.Sid}`).toEqual({
        StringEquals: { 'events:source': 'routing.manager' },
      });
    }
  });
});

describe('template: the provider-signal queue (HealthSignalsRule → HealthSignalsQueue → HealthSignals)', () => {
  const queuePolicyStatements = (): [string, Statement][] =>
    prod
      .resourcesOfType('AWS::SQS::QueuePolicy')
      .flatMap((id) =>
        (prod.properties(id).PolicyDocument as { Statement: Statement[] }).Statement.map(
          (s): [string, Statement] => [id, s],
        ),
      );

  it('the function may consume HealthSignalsQueue only, and send only to the hold backlog', () => {
    const sqs = roleStatements(template, prod, 'HealthSignalsRole').filter((s) =>
      asList(s.Action).some((a) => a.startsWith('sqs:')),
    );
    expect(sqs.map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      [
        'ConsumeSignalQueue',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        '<HealthSignalsQueue.Arn>',
      ],
      ['WakeHeldJobs', 'sqs:SendMessage', '<HoldQueue.Arn>'],
    ]);
  });

  it('EventBridge may send to the queue and its DLQ only on behalf of HealthSignalsRule (aws:SourceArn)', () => {
    const toSignals = queuePolicyStatements().filter(([id]) => id.startsWith('HealthSignals'));
    expect(toSignals.map(([, s]) => s.Resource).sort()).toEqual([
      '<HealthSignalsDeadLetterQueue.Arn>',
      '<HealthSignalsQueue.Arn>',
    ]);
    for (const [id, statement] of toSignals) {
      expect(statement, id).toMatchObject({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': '<HealthSignalsRule.Arn>' } },
      });
    }
  });

  it('every queue policy that admits a service pins it to one source by aws:SourceArn', () => {
    const statements = queuePolicyStatements();
    expect(statements.length).toBeGreaterThan(0);
    for (const [id, statement] of statements) {
      expect(statement.Principal, id).toEqual({ Service: expect.any(String) });
      expect((statement.Condition?.ArnEquals as TemplateDict | undefined)?.['aws:SourceArn'], id).toMatch(
        /^<[A-Za-z]+\.Arn>$/,
      );
    }
  });

  it('the queue is encrypted, dead-letters a message after a bounded number of receives, and outlasts a batch being handled', () => {
    const queue = prod.properties('HealthSignalsQueue');
    const timeout = (template.Globals.Function.Timeout as number) ?? 3;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: '<HealthSignalsDeadLetterQueue.Arn>', maxReceiveCount: 5 },
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    expect(prod.properties('HealthSignalsDeadLetterQueue')).toMatchObject({ SqsManagedSseEnabled: true });
  });

  it('the function takes the queue in batches with partial failures, its concurrency capped by a parameter', () => {
    const events = prod.properties('HealthSignalsFunction').Events as Record<string, TemplateDict>;
    expect(Object.values(events)).toEqual([
      {
        Type: 'SQS',
        Properties: {
          Queue: '<HealthSignalsQueue.Arn>',
          BatchSize: 100,
          MaximumBatchingWindowInSeconds: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: '200' },
        },
      },
    ]);
    const capped = new TemplateEvaluator(template, {
      parameters: { Stage: 'prod', HealthSignalsMaxConcurrency: '20' },
    });
    expect(
      (capped.properties('HealthSignalsFunction').Events as Record<string, TemplateDict>).SignalQueue,
    ).toMatchObject({ Properties: { ScalingConfig: { MaximumConcurrency: '20' } } });
  });

  it('nothing invokes the function directly any more: no EventBridge permission, no asynchronous retry config', () => {
    const permissions = prod
      .resourcesOfType('AWS::Lambda::Permission')
      .map((id) => prod.properties(id).FunctionName);
    expect(permissions).not.toContain('<HealthSignalsFunction>');
    const invokeConfigs = prod
      .resourcesOfType('AWS::Lambda::EventInvokeConfig')
      .map((id) => prod.properties(id).FunctionName);
    expect(invokeConfigs).not.toContain('<HealthSignalsFunction>');
  });
});

describe('template: content keys (KMS envelope encryption)', () => {
  const kmsGrants = (action: string) =>
    allStatements()
      .filter(([, s]) => asList(s.Action).includes(action))
      .map(([owner, s]) => ({ owner, resource: s.Resource, condition: s.Condition }));
  const contentContext = {
    StringEquals: {
      'kms:EncryptionContext:stage': 'prod',
      'kms:EncryptionContext:purpose': 'routing-manager-content',
    },
  };

  it("only the projector and the operators' policy may unwrap content keys, bound to this stage", () => {
    expect(kmsGrants('kms:Decrypt')).toEqual([
      { owner: 'ProjectorRole', resource: '<ContentKey.Arn>', condition: contentContext },
      { owner: 'OperatorContentPolicy', resource: '<ContentKey.Arn>', condition: contentContext },
    ]);
  });

  it('only the router generates data keys (bound to this stage) and derives hash keys', () => {
    expect(kmsGrants('kms:GenerateDataKey')).toEqual([
      { owner: 'RouterRole', resource: '<ContentKey.Arn>', condition: contentContext },
    ]);
    expect(kmsGrants('kms:GenerateMac')).toEqual([
      {
        owner: 'RouterRole',
        resource: '<PayloadHashKey.Arn>',
        condition: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } },
      },
    ]);
  });

  it('the stack creates the keys unless ContentKmsKeyArn / PayloadHashKmsKeyArn name them, and the functions get the one in use', () => {
    expect(prod.exists('ContentKey')).toBe(true);
    expect(prod.properties('ContentKey')).toMatchObject({
      KeySpec: 'SYMMETRIC_DEFAULT',
      EnableKeyRotation: true,
    });
    expect(prod.properties('PayloadHashKey')).toMatchObject({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
    });
    const given = new TemplateEvaluator(template, {
      parameters: {
        Stage: 'prod',
        ContentKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/content',
        PayloadHashKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/hash',
      },
    });
    expect(given.exists('ContentKey')).toBe(false);
    expect(given.exists('PayloadHashKey')).toBe(false);
    const variables = (id: string) => (given.properties(id).Environment as TemplateDict).Variables;
    expect(variables('RouterFunction')).toMatchObject({
      CONTENT_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/content',
      PAYLOAD_HASH_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/hash',
    });
    expect(variables('ProjectorFunction')).toMatchObject({
      CONTENT_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/content',
    });
    expect(variables('ProjectorFunction')).not.toHaveProperty('PAYLOAD_HASH_KMS_KEY_ID');
  });

  it("the operators' policy is exported for operators' roles", () => {
    expect(template.Outputs.OperatorContentPolicyArn?.Export).toBeDefined();
    expect(prod.value(template.Outputs.OperatorContentPolicyArn?.Value)).toBe('<OperatorContentPolicy>');
  });
});

describe('template: content table resource policy', () => {
  it('denies reads, backups and exports to every principal not tagged as a content reader of this stage', () => {
    const policy = prod.properties('RoutingContentTable').ResourcePolicy as {
      PolicyDocument: { Statement: Statement[] & { Principal?: unknown }[] };
    };
    expect(policy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:PartiQLSelect',
          'dynamodb:CreateBackup',
          'dynamodb:ExportTableToPointInTime',
        ]),
        Condition: { StringNotEquals: { 'aws:PrincipalTag/RoutingManagerContentReader': 'prod' } },
      }),
    ]);
  });

  it('tags exactly the router and the projector as content readers', () => {
    const tagged = ROLES.filter((role) =>
      (prod.value(template.Resources[role]?.Properties?.Tags ?? []) as { Key: string; Value: string }[]).some(
        (tag) => tag.Key === 'RoutingManagerContentReader' && tag.Value === 'prod',
      ),
    );
    expect(tagged).toEqual(['RouterRole', 'ProjectorRole']);
  });
});
