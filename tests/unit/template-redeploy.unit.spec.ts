/**
 * A deploy that can be repeated (issue 18, docs/DEPLOY.md): after `sam delete` the stage's retained
 * state tables are adopted by parameter; prod refuses to deploy with no alarm target (template
 * Rules, checked here by evaluating their assertions); every routing.manager event reaches a
 * CloudWatch log group with the stack's log retention.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudFormationTemplate,
  readTemplate,
  type TemplateDict,
  TemplateEvaluator,
  type TemplateNode,
} from '../../src/template/cloudformation-template.ts';
import { grants, roleStatements } from '../support/template-policies.ts';

let template: CloudFormationTemplate;
beforeAll(() => {
  template = readTemplate();
});

const deployment = (parameters: Record<string, string>) => new TemplateEvaluator(template, { parameters });
const STATE_TABLES = {
  RoutingLogTable: 'RoutingLog',
  RoutingEffectsTable: 'RoutingEffects',
  ProviderHealthTable: 'ProviderHealth',
  RoutingContentTable: 'RoutingContent',
};
const STREAM = 'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingLog-dev/stream/2026-12-06T10:00:00.000';

type Rule = {
  RuleCondition: TemplateNode;
  Assertions: { Assert: TemplateNode; AssertDescription: string }[];
};
/** The assertion descriptions CloudFormation would refuse a deployment with. */
function refusals(parameters: Record<string, string>): string[] {
  const evaluator = deployment(parameters);
  const rules = (template as unknown as { Rules: Record<string, Rule> }).Rules;
  return Object.values(rules).flatMap((rule) =>
    evaluator.truth(rule.RuleCondition)
      ? rule.Assertions.filter((a) => !evaluator.truth(a.Assert)).map((a) => a.AssertDescription)
      : [],
  );
}

describe('template: adopting the retained tables after sam delete', () => {
  it('by default the stack creates the four state tables, retained on deletion', () => {
    const dev = deployment({ Stage: 'dev' });
    for (const [id, name] of Object.entries(STATE_TABLES)) {
      expect(dev.exists(id), id).toBe(true);
      expect((template.Resources[id] as { DeletionPolicy?: string } | undefined)?.DeletionPolicy).toBe(
        'Retain',
      );
      expect(dev.properties(id).TableName).toBe(`${name}-dev`);
    }
  });

  it('given AdoptRetainedTables=true, it creates none of them and every name, grant and the stream mapping name the retained ones', () => {
    const adopted = deployment({ Stage: 'dev', AdoptRetainedTables: 'true', RoutingLogStreamArn: STREAM });
    for (const id of Object.keys(STATE_TABLES)) expect(adopted.exists(id), id).toBe(false);
    const variables = (adopted.value(template.Globals.Function.Environment) as TemplateDict)
      .Variables as TemplateDict;
    expect(variables.EVENT_LOG_TABLE).toBe('RoutingLog-dev');
    const projector = grants(roleStatements(template, adopted, 'ProjectorRole'));
    expect(projector['dynamodb:GetRecords']).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingLog-dev/stream/*',
    ]);
    expect(projector['dynamodb:BatchWriteItem']).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingContent-dev',
      'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingEffects-dev',
    ]);
    const router = grants(roleStatements(template, adopted, 'RouterRole'));
    expect(router['dynamodb:PutItem']).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/ProviderHealth-dev',
      'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingContent-dev',
      'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingLog-dev',
    ]);
    const events = adopted.properties('ProjectorFunction').Events as Record<
      string,
      { Properties: TemplateDict }
    >;
    expect(events.RoutingLogStream?.Properties.Stream).toBe(STREAM);
    const text = JSON.stringify(
      Object.keys(template.Resources)
        .filter((id) => adopted.exists(id))
        .map((id) => adopted.properties(id)),
    );
    for (const id of Object.keys(STATE_TABLES)) expect(text).not.toContain(`<${id}`);
  });

  it('refuses adoption without the retained log stream, naming the parameter', () => {
    expect(refusals({ Stage: 'dev', AdoptRetainedTables: 'true' })).toEqual([
      expect.stringContaining('RoutingLogStreamArn'),
    ]);
    expect(refusals({ Stage: 'dev', AdoptRetainedTables: 'true', RoutingLogStreamArn: STREAM })).toEqual([]);
  });
});

describe('template: alarm target', () => {
  it('refuses a prod stack with no alarm target, naming the parameters; dev and prod with a target deploy', () => {
    expect(refusals({ Stage: 'prod' })).toEqual([expect.stringMatching(/AlarmTopicArn.*AlarmEmail/)]);
    expect(refusals({ Stage: 'prod', AlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:oncall' })).toEqual(
      [],
    );
    expect(refusals({ Stage: 'prod', AlarmEmail: 'oncall@example.com' })).toEqual([]);
    expect(refusals({ Stage: 'dev' })).toEqual([]);
  });
});

describe('template: routing events in CloudWatch Logs', () => {
  it('sends every routing.manager event on the stack bus to its own log group, kept LogRetentionInDays', () => {
    const dev = deployment({ Stage: 'dev', LogRetentionInDays: '14', EventBusName: 'platform' });
    expect(dev.properties('RoutingEventsRule')).toMatchObject({
      EventBusName: 'platform',
      State: 'ENABLED',
      EventPattern: { source: ['routing.manager'] },
      Targets: [{ Id: 'log-group', Arn: '<RoutingEventsLogGroup.Arn>' }],
    });
    expect(dev.properties('RoutingEventsLogGroup')).toEqual({
      LogGroupName: '/aws/events/RoutingManager-dev',
      RetentionInDays: '14',
    });
    const policy = JSON.parse(String(dev.properties('RoutingEventsLogPolicy').PolicyDocument));
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '<RoutingEventsLogGroup.Arn>',
      }),
    ]);
    expect(dev.value(template.Outputs.RoutingEventsLogGroupName?.Value)).toBe('<RoutingEventsLogGroup>');
  });
});
