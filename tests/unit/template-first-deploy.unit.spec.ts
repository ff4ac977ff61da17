/**
 * First deploy on an empty account: every provider queue and ecosystem table is created by the
 * stack when its parameter is empty and referenced when given (URL or name), and the IAM grants,
 * the projector's environment and the outputs follow either way. samconfig.toml's dev deploys into
 * an empty account, prod references the platform's resources, and neither holds placeholders.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudFormationTemplate,
  readTemplate,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';
import { broadStatements, grants, roleStatements } from '../support/template-policies.ts';

let template: CloudFormationTemplate;
beforeAll(() => {
  template = readTemplate();
});
const deployment = (parameters: Record<string, string>) => new TemplateEvaluator(template, { parameters });

const owned = [
  'FalJobQueue',
  'FalJobDeadLetterQueue',
  'ReplicateJobQueue',
  'ReplicateJobDeadLetterQueue',
  'JobsTable',
  'CreditsTable',
];
const referencing = {
  FalQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/FalJobQueue',
  ReplicateQueueName: 'ReplicateJobQueue',
  JobsTableName: 'Jobs-prod',
  CreditsTableName: 'Credits-prod',
};
const projectorEnvironment = (evaluator: TemplateEvaluator) =>
  (evaluator.properties('ProjectorFunction').Environment as { Variables: Record<string, string> }).Variables;
const outputs = (evaluator: TemplateEvaluator) =>
  Object.fromEntries(
    Object.entries(template.Outputs).map(([name, output]) => [name, evaluator.value(output.Value)]),
  );

describe('template: first deploy on an empty account', () => {
  it('given no queue or table parameters, the stack creates both provider queues with DLQs, Jobs-<Stage> and Credits-<Stage>', () => {
    const dev = deployment({ Stage: 'dev' });
    for (const id of owned) expect(dev.exists(id), id).toBe(true);
    expect(dev.properties('FalJobQueue')).toMatchObject({
      QueueName: 'FalJobQueue-dev',
      RedrivePolicy: { deadLetterTargetArn: '<FalJobDeadLetterQueue.Arn>', maxReceiveCount: 5 },
    });
    expect(dev.properties('ReplicateJobQueue')).toMatchObject({
      QueueName: 'ReplicateJobQueue-dev',
      RedrivePolicy: { deadLetterTargetArn: '<ReplicateJobDeadLetterQueue.Arn>' },
    });
    expect(dev.properties('JobsTable')).toMatchObject({
      TableName: 'Jobs-dev',
      KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
    });
    expect(dev.properties('CreditsTable')).toMatchObject({
      TableName: 'Credits-dev',
      KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
    });
  });

  it('given no queue or table parameters, the grants, the environment and the outputs name the created resources', () => {
    const dev = deployment({ Stage: 'dev' });
    const router = grants(roleStatements(template, dev, 'RouterRole'));
    const projector = grants(roleStatements(template, dev, 'ProjectorRole'));
    expect(router['dynamodb:GetItem']).toEqual([
      '<CreditsTable.Arn>',
      '<ProviderHealthTable.Arn>',
      '<RoutingContentTable.Arn>',
    ]);
    expect(projector['dynamodb:PartiQLUpdate']).toEqual(['<JobsTable.Arn>']);
    expect(projector['dynamodb:PartiQLInsert']).toEqual(['<JobsTable.Arn>', '<RoutingContentTable.Arn>']);
    expect(projector['sqs:SendMessage']).toEqual([
      '<FalJobQueue.Arn>',
      '<ProjectorOnFailureQueue.Arn>',
      '<ReplicateJobQueue.Arn>',
    ]);
    for (const role of ['RouterRole', 'ProjectorRole']) {
      expect(broadStatements(roleStatements(template, dev, role))).toEqual([]);
    }
    expect(projectorEnvironment(dev)).toMatchObject({
      FAL_QUEUE_URL: '<FalJobQueue>',
      REPLICATE_QUEUE_URL: '<ReplicateJobQueue>',
      JOBS_TABLE: '<JobsTable>',
    });
    expect(outputs(dev)).toMatchObject({
      FalQueueUrl: '<FalJobQueue>',
      ReplicateQueueUrl: '<ReplicateJobQueue>',
      JobsTableName: '<JobsTable>',
      CreditsTableName: '<CreditsTable>',
      EventBusName: 'default',
      ProviderQueuesCreatedByStack: 'true',
    });
  });

  it('given queue URLs or names and table names, the stack creates none of them and grants on exactly those', () => {
    const prod = deployment({ Stage: 'prod', ...referencing });
    for (const id of owned) expect(prod.exists(id), id).toBe(false);
    const projector = grants(roleStatements(template, prod, 'ProjectorRole'));
    expect(projector['sqs:SendMessage']).toEqual([
      '<ProjectorOnFailureQueue.Arn>',
      'arn:aws:sqs:eu-west-1:111122223333:FalJobQueue',
      'arn:aws:sqs:us-east-1:123456789012:ReplicateJobQueue',
    ]);
    expect(projector['dynamodb:PartiQLUpdate']).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/Jobs-prod',
    ]);
    expect(grants(roleStatements(template, prod, 'RouterRole'))['dynamodb:GetItem']).toEqual([
      '<ProviderHealthTable.Arn>',
      '<RoutingContentTable.Arn>',
      'arn:aws:dynamodb:us-east-1:123456789012:table/Credits-prod',
    ]);
    expect(projectorEnvironment(prod)).toMatchObject({
      FAL_QUEUE_URL: referencing.FalQueueUrl,
      REPLICATE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/ReplicateJobQueue',
      JOBS_TABLE: 'Jobs-prod',
    });
    expect(outputs(prod)).toMatchObject({
      FalQueueUrl: referencing.FalQueueUrl,
      JobsTableName: 'Jobs-prod',
      CreditsTableName: 'Credits-prod',
      ProviderQueuesCreatedByStack: 'false',
    });
  });

  it('given both a queue URL and a name, the URL wins', () => {
    const both = deployment({
      Stage: 'prod',
      FalQueueUrl: referencing.FalQueueUrl,
      FalQueueName: 'SomethingElse',
    });
    expect(projectorEnvironment(both).FAL_QUEUE_URL).toBe(referencing.FalQueueUrl);
    expect(both.exists('FalJobQueue')).toBe(false);
  });

  it('each resource follows its own parameter: one queue referenced, the other created', () => {
    const mixed = deployment({ Stage: 'dev', FalQueueName: 'FalJobQueue' });
    expect(mixed.exists('FalJobQueue')).toBe(false);
    expect(mixed.exists('ReplicateJobQueue')).toBe(true);
    expect(outputs(mixed).ProviderQueuesCreatedByStack).toBe('false');
  });
});

describe('template: encrypted provider queues', () => {
  const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('without a key, created queues use SSE-SQS and the projector gets no KMS permission for them', () => {
    const dev = deployment({ Stage: 'dev' });
    for (const id of owned.filter((o) => o.includes('Queue'))) {
      expect(dev.properties(id)).toMatchObject({ SqsManagedSseEnabled: true });
      expect(dev.properties(id).KmsMasterKeyId).toBeUndefined();
    }
    const projector = grants(roleStatements(template, dev, 'ProjectorRole'));
    // Only Decrypt of the stack's own content key (user-content transit keys), nothing for queues.
    expect(Object.keys(projector).filter((action) => action.startsWith('kms:'))).toEqual(['kms:Decrypt']);
    expect(projector['kms:Decrypt']).toEqual(['<ContentKey.Arn>']);
  });

  it('with a key, created queues use it and the projector may use that key only, for sending', () => {
    for (const parameters of [{ Stage: 'dev' }, { Stage: 'prod', ...referencing }]) {
      const keyed = deployment({ ...parameters, ProviderQueueKmsKeyArn: KEY });
      const projector = grants(roleStatements(template, keyed, 'ProjectorRole'));
      expect(projector['kms:GenerateDataKey']).toEqual([KEY]);
      expect(projector['kms:Decrypt']).toEqual(['<ContentKey.Arn>', KEY]);
      expect(broadStatements(roleStatements(template, keyed, 'ProjectorRole'))).toEqual([]);
    }
    const dev = deployment({ Stage: 'dev', ProviderQueueKmsKeyArn: KEY });
    for (const id of owned.filter((o) => o.includes('Queue'))) {
      expect(dev.properties(id)).toMatchObject({ KmsMasterKeyId: KEY });
      expect(dev.properties(id).SqsManagedSseEnabled).toBeUndefined();
    }
  });
});

describe('template: router concurrency', () => {
  const reserved = (parameters: Record<string, string>) =>
    deployment({ Stage: 'prod', ...parameters }).properties('RouterFunction').ReservedConcurrentExecutions;

  it('reserves (and caps) 200 executions for the router by default (≈ 10,000 jobs/s, docs/SCALE.md), so it cannot starve other agents', () => {
    expect(reserved({})).toBe('200');
  });

  it('0 means no reservation, for accounts whose quota allows none', () => {
    expect(reserved({ RouterReservedConcurrency: '0' })).toBeUndefined();
  });
});

// ------------------------------------------------------------------ samconfig.toml
const samconfig = readFileSync(new URL('../../samconfig.toml', import.meta.url), 'utf8');

/** `parameter_overrides` of `[<env>.deploy.parameters]` as name → value. */
function overrides(env: string): Record<string, string> {
  const section = samconfig.split(`[${env}.deploy.parameters]`)[1]?.split(/\n\[/)[0] ?? '';
  const list = /parameter_overrides = \[([\s\S]*?)\n\]/.exec(section)?.[1] ?? '';
  return Object.fromEntries(
    [...list.matchAll(/^\s*"([A-Za-z]+)=([^"]*)"/gm)].map((match) => [match[1], match[2]]),
  );
}

describe('samconfig.toml', () => {
  it('holds no placeholder values', () => {
    expect(samconfig).not.toMatch(/REPLACE-ME|000000000000/);
  });

  it('dev deploys into an account without the platform: the stack creates queues, tables and the alarm topic', () => {
    const parameters = overrides('dev');
    expect(parameters.Stage).toBe('dev');
    const dev = deployment(parameters);
    for (const id of [...owned, 'AlarmTopic']) expect(dev.exists(id), id).toBe(true);
    // New accounts have a concurrency quota of 10, from which nothing can be reserved.
    expect(dev.properties('RouterFunction').ReservedConcurrentExecutions).toBeUndefined();
  });

  it("prod references the platform's queues and Jobs/Credits tables, and reserves router concurrency", () => {
    const parameters = overrides('prod');
    expect(parameters).toMatchObject({
      Stage: 'prod',
      FalQueueName: 'FalJobQueue',
      ReplicateQueueName: 'ReplicateJobQueue',
      JobsTableName: 'Jobs-prod',
      CreditsTableName: 'Credits-prod',
    });
    const prod = deployment(parameters);
    for (const id of owned) expect(prod.exists(id), id).toBe(false);
    expect(prod.properties('RouterFunction').ReservedConcurrentExecutions).toEqual(expect.any(String));
  });

  it('every override names a template parameter and satisfies its AllowedPattern', () => {
    for (const env of ['dev', 'prod']) {
      for (const [name, value] of Object.entries(overrides(env))) {
        const parameter = template.Parameters[name];
        expect(parameter, `${env}: ${name}`).toBeDefined();
        if (typeof parameter?.AllowedPattern === 'string') {
          expect(value).toMatch(new RegExp(parameter.AllowedPattern));
        }
      }
    }
  });
});
