/**
 * The user-content protection parts of template.yaml (docs/DATA_PROTECTION.md): the content table,
 * the retention parameter, and queues holding jobs that keep a message no longer than the retention.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudFormationTemplate,
  readTemplate,
  type TemplateDict,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';

let template: CloudFormationTemplate;
beforeAll(() => {
  template = readTemplate();
});

const withRetention = (days?: string) =>
  new TemplateEvaluator(template, {
    parameters: { Stage: 'prod', ...(days === undefined ? {} : { ContentRetentionDays: days }) },
  });
/** Queues whose messages are whole submissions or jobs (user content). */
const FAILURE_QUEUES = [
  'RouterDeadLetterQueue',
  'RouterOnFailureQueue',
  'ProjectorOnFailureQueue',
  'FalJobDeadLetterQueue',
  'ReplicateJobDeadLetterQueue',
];
const PROVIDER_QUEUES = ['FalJobQueue', 'ReplicateJobQueue'];

describe('template: user content protection', () => {
  it('the content table expires items via expiresAt, has no point-in-time recovery and no secondary index (no second write unit per job)', () => {
    const table = withRetention().properties('RoutingContentTable');
    expect(table.GlobalSecondaryIndexes).toBeUndefined();
    expect(table.LocalSecondaryIndexes).toBeUndefined();
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
    expect(table).toMatchObject({
      TableName: 'RoutingContent-prod',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('the content retention defaults to 30 days and reaches the projector, the content table both functions', () => {
    expect(template.Parameters.ContentRetentionDays?.Default).toBe('30');
    const variables = (id: string) =>
      (withRetention('7').properties(id).Environment as TemplateDict).Variables;
    expect(variables('ProjectorFunction')).toMatchObject({
      CONTENT_RETENTION_DAYS: '7',
      CONTENT_TABLE: '<RoutingContentTable>',
    });
    expect(variables('RouterFunction')).toMatchObject({ CONTENT_TABLE: '<RoutingContentTable>' });
  });

  it.each([
    ['1', 86_400, 86_400],
    ['3', 259_200, 259_200],
    ['7', 604_800, 345_600],
    ['14', 1_209_600, 345_600],
    ['30', 1_209_600, 345_600],
    ['90', 1_209_600, 345_600],
  ])(
    'with a retention of %s days, failure queues keep a message %i s and provider queues %i s at most',
    (days, failure, provider) => {
      const evaluator = withRetention(days);
      const retention = (queue: string) => evaluator.properties(queue).MessageRetentionPeriod as number;
      for (const queue of FAILURE_QUEUES) {
        expect(retention(queue), queue).toBe(failure);
        expect(retention(queue), queue).toBeLessThanOrEqual(Number(days) * 86_400);
      }
      for (const queue of PROVIDER_QUEUES) expect(retention(queue), queue).toBe(provider);
    },
  );

  it('every allowed retention has queue retentions', () => {
    for (const days of (template.Parameters.ContentRetentionDays?.AllowedValues ?? []) as string[]) {
      expect(template.Mappings?.ContentRetention?.[days], days).toEqual({
        QueueSeconds: expect.any(Number),
        ProviderQueueSeconds: expect.any(Number),
      });
    }
  });
});
