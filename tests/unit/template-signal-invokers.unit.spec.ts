/**
 * The direct path's grant (template.yaml): HealthSignalsQueue's policy lets the invokers named in
 * `SignalInvokerPrincipalArns` send to it — absent by default, and when present no wider than
 * SQS lets a queue policy say: those principals, `sqs:SendMessage` (which covers SendMessageBatch),
 * this queue, over TLS. The parameter's pattern refuses wildcards and account roots.
 */
import { describe, expect, it } from 'vitest';
import { readTemplate, TemplateEvaluator } from '../../src/template/cloudformation-template.ts';
import type { Statement } from '../support/template-policies.ts';

const template = readTemplate();
const INVOKERS = [
  'arn:aws:iam::111122223333:role/FalInvoker',
  'arn:aws:iam::123456789012:role/invokers/ReplicateInvoker',
];

const queuePolicy = (parameters: Record<string, string>) => {
  const evaluator = new TemplateEvaluator(template, { parameters: { Stage: 'prod', ...parameters } });
  const policy = evaluator.value(template.Resources.HealthSignalsQueuePolicy?.Properties) as {
    Queues: string[];
    PolicyDocument: { Statement: Statement[] };
  };
  return { evaluator, policy, statements: policy.PolicyDocument.Statement };
};

const RULE_STATEMENT = {
  Sid: 'AllowHealthSignalsRule',
  Effect: 'Allow',
  Principal: { Service: 'events.amazonaws.com' },
  Action: 'sqs:SendMessage',
  Resource: '<HealthSignalsQueue.Arn>',
  Condition: { ArnEquals: { 'aws:SourceArn': '<HealthSignalsRule.Arn>' } },
};

describe('template: the invokers’ direct grant on HealthSignalsQueue', () => {
  it('given no SignalInvokerPrincipalArns (the default), then only HealthSignalsRule may send to the queue', () => {
    expect(template.Parameters.SignalInvokerPrincipalArns?.Default).toBe('');
    const { policy, statements } = queuePolicy({});
    expect(policy.Queues).toEqual(['<HealthSignalsQueue>']);
    expect(statements).toEqual([RULE_STATEMENT]);
  });

  it('given two invoker roles, then one more statement lets exactly them SendMessage to this queue over TLS, and the rule’s statement is unchanged', () => {
    const { statements } = queuePolicy({ SignalInvokerPrincipalArns: INVOKERS.join(',') });
    expect(statements).toEqual([
      RULE_STATEMENT,
      {
        Sid: 'AllowSignalInvokersDirect',
        Effect: 'Allow',
        Principal: { AWS: INVOKERS },
        Action: 'sqs:SendMessage',
        Resource: '<HealthSignalsQueue.Arn>',
        Condition: { Bool: { 'aws:SecureTransport': 'true' } },
      },
    ]);
  });

  it('given the parameter’s pattern, then it takes role and user ARNs, comma-separated, and refuses wildcards, account roots, services and other resources', () => {
    const pattern = new RegExp(template.Parameters.SignalInvokerPrincipalArns?.AllowedPattern as string);
    for (const accepted of [
      '',
      INVOKERS[0],
      INVOKERS.join(','),
      'arn:aws:iam::123456789012:user/ci-invoker',
      'arn:aws-us-gov:iam::123456789012:role/a/b/FalInvoker',
    ])
      expect(pattern.test(accepted as string), accepted).toBe(true);
    for (const refused of [
      '*',
      'arn:aws:iam::123456789012:root',
      'arn:aws:iam::123456789012:role/*',
      'arn:aws:iam::*:role/FalInvoker',
      'arn:aws:iam::123456789012:role/FalInvoker,*',
      'events.amazonaws.com',
      'arn:aws:sqs:us-east-1:123456789012:RoutingHealthSignals-prod',
      `${INVOKERS[0]},`,
      ' arn:aws:iam::123456789012:role/FalInvoker',
    ])
      expect(pattern.test(refused), refused).toBe(false);
  });

  it('given the stack’s outputs, then invokers find the queue’s URL and the ARN their own policy names', () => {
    const evaluator = new TemplateEvaluator(template, { parameters: { Stage: 'prod' } });
    expect(evaluator.value(template.Outputs.HealthSignalsQueueUrl?.Value)).toBe('<HealthSignalsQueue>');
    expect(evaluator.value(template.Outputs.HealthSignalsQueueArn?.Value)).toBe('<HealthSignalsQueue.Arn>');
  });

  it('given the queue, then it is encrypted with SSE-SQS: senders need no KMS permission (docs/EVENT_SCHEMA.md says so)', () => {
    const queue = template.Resources.HealthSignalsQueue?.Properties ?? {};
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.KmsMasterKeyId).toBeUndefined();
  });
});
