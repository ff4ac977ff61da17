/**
 * Alarms reach someone: every alarm notifies AlarmTopicArn, or the topic the stack creates when it
 * is empty (with an optional e-mail subscription). The alarms on the app's own metrics watch
 * exactly the namespace and dimension set the code's EMF lines carry (an alarm on a dimension set
 * the code does not emit would stay silent forever).
 */
import { readFileSync } from 'node:fs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTelemetry } from '../../src/observability/telemetry.ts';
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
afterEach(() => {
  vi.restoreAllMocks();
});
const deployment = (parameters: Record<string, string>) => new TemplateEvaluator(template, { parameters });
const ONCALL = 'arn:aws:sns:us-east-1:123456789012:oncall';

const alarmsOf = (evaluator: TemplateEvaluator) =>
  evaluator.resourcesOfType('AWS::CloudWatch::Alarm').map((id) => [id, evaluator.properties(id)] as const);

const alarmOn = (evaluator: TemplateEvaluator, namespace: string, metric: string, dimension: string) =>
  alarmsOf(evaluator).find(
    ([, alarm]) =>
      alarm.Namespace === namespace &&
      alarm.MetricName === metric &&
      (alarm.Dimensions as { Value: string }[]).some((d) => d.Value === dimension),
  )?.[1];

describe('template: alarm notifications', () => {
  it('given no AlarmTopicArn, the stack creates a topic and every alarm notifies it on ALARM and OK', () => {
    const dev = deployment({ Stage: 'dev' });
    expect(dev.exists('AlarmTopic')).toBe(true);
    expect(dev.properties('AlarmTopic')).toMatchObject({ TopicName: 'RoutingManager-Alarms-dev' });
    const alarms = alarmsOf(dev);
    expect(alarms.length).toBeGreaterThanOrEqual(13);
    for (const [id, alarm] of alarms) {
      expect(alarm, id).toMatchObject({ AlarmActions: ['<AlarmTopic>'], OKActions: ['<AlarmTopic>'] });
    }
  });

  it('given an AlarmTopicArn, no topic is created and every alarm notifies the given one', () => {
    const prod = deployment({ Stage: 'prod', AlarmTopicArn: ONCALL, AlarmEmail: 'ops@example.com' });
    expect(prod.exists('AlarmTopic')).toBe(false);
    expect(prod.exists('AlarmEmailSubscription')).toBe(false);
    for (const [id, alarm] of alarmsOf(prod)) {
      expect(alarm, id).toMatchObject({ AlarmActions: [ONCALL], OKActions: [ONCALL] });
    }
  });

  it('subscribes AlarmEmail to the created topic only when an address is given', () => {
    expect(deployment({ Stage: 'dev' }).exists('AlarmEmailSubscription')).toBe(false);
    const withEmail = deployment({ Stage: 'dev', AlarmEmail: 'ops@example.com' });
    expect(withEmail.properties('AlarmEmailSubscription')).toEqual({
      TopicArn: '<AlarmTopic>',
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('the stack outputs the topic its alarms notify', () => {
    const output = template.Outputs.AlarmTopicArn?.Value;
    expect(deployment({ Stage: 'dev' }).value(output)).toBe('<AlarmTopic>');
    expect(deployment({ Stage: 'prod', AlarmTopicArn: ONCALL }).value(output)).toBe(ONCALL);
  });
});

describe('template: every alarm has its runbook', () => {
  it('given each alarm, then its description links a section of docs/OPERATIONS.md that exists', () => {
    const operations = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8');
    // GitHub's anchors: the heading lower-cased, punctuation dropped, spaces as hyphens.
    const anchors = new Set(
      [...operations.matchAll(/^#{2,4} (.+)$/gm)].map(([, heading]) =>
        (heading as string)
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const alarms = alarmsOf(deployment({ Stage: 'dev' }));
    for (const [id, alarm] of alarms) {
      const link = /docs\/OPERATIONS\.md#([a-z0-9-]+)/.exec(String(alarm.AlarmDescription));
      expect(link?.[1], id).toBeDefined();
      expect(anchors.has(link?.[1] as string), `${id} → #${link?.[1]}`).toBe(true);
    }
  });
});

describe('template: alarms on failures', () => {
  it.each([
    ['projector errors', 'AWS/Lambda', 'Errors', '<ProjectorFunction>'],
    ['router throttles', 'AWS/Lambda', 'Throttles', '<RouterFunction>'],
    ['projector records failed', 'RoutingManager', 'RecordsFailed', 'prod'],
    ['completion markers not written', 'RoutingManager', 'MarkerWriteFailures', 'prod'],
    ['conflicting duplicates', 'RoutingManager', 'ConflictingDuplicates', 'prod'],
  ] as const)('alarms on %s: any occurrence in 5 minutes', (_name, namespace, metric, dimension) => {
    expect(alarmOn(deployment({ Stage: 'prod' }), namespace, metric, dimension)).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when a provider signal reaches its DLQ, and when signals wait in HealthSignalsQueue over a minute for three minutes', () => {
    const prod = deployment({ Stage: 'prod' });
    expect(
      alarmOn(
        prod,
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        '<HealthSignalsDeadLetterQueue.QueueName>',
      ),
    ).toMatchObject({ Statistic: 'Maximum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(
      alarmOn(prod, 'AWS/SQS', 'ApproximateAgeOfOldestMessage', '<HealthSignalsQueue.QueueName>'),
    ).toMatchObject({
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 60,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on the provider DLQs only when the stack owns the provider queues', () => {
    const depth = 'ApproximateNumberOfMessagesVisible';
    const dev = deployment({ Stage: 'dev' });
    expect(alarmOn(dev, 'AWS/SQS', depth, '<FalJobDeadLetterQueue.QueueName>')).toBeDefined();
    expect(alarmOn(dev, 'AWS/SQS', depth, '<ReplicateJobDeadLetterQueue.QueueName>')).toBeDefined();
    const prod = deployment({ Stage: 'prod', FalQueueName: 'FalJobQueue', ReplicateQueueName: 'R' });
    expect(prod.exists('FalJobDeadLetterQueue')).toBe(false);
    expect(alarmsOf(prod).filter(([id]) => id.includes('JobDeadLetter'))).toEqual([]);
  });

  it.each([
    // [metric, function, the module of src/handlers that counts it]
    ['RecordsFailed', 'projector', 'projector'],
    ['MarkerWriteFailures', 'projector', 'projector'],
    ['ConflictingDuplicates', 'router', 'middlewares'],
    ['UnclassifiedErrorClass', 'health-signals', 'signal-reports'],
  ] as const)(
    'the %s alarm watches the namespace and dimensions the %s function emits',
    (metric, handler, module) => {
      const source = readFileSync(new URL(`../../src/handlers/${module}.ts`, import.meta.url), 'utf8');
      expect(source).toContain(`addMetric('${metric}'`);

      const written: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
        written.push(String(text));
        return true;
      });
      const { metrics } = createTelemetry(handler, 'prod');
      metrics.addMetric(metric, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      vi.restoreAllMocks();

      const emf = JSON.parse(written.find((line) => line.includes('"_aws"')) ?? '{}') as TemplateDict & {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
      };
      const [directive] = emf._aws.CloudWatchMetrics;
      const emitted = (directive?.Dimensions[0] ?? []).map((name) => ({ Name: name, Value: emf[name] }));
      const alarm = alarmOn(deployment({ Stage: 'prod' }), directive?.Namespace ?? '', metric, 'prod');
      expect(alarm?.Dimensions).toEqual(
        expect.arrayContaining(emitted.map((dimension) => expect.objectContaining(dimension))),
      );
      expect((alarm?.Dimensions as unknown[] | undefined)?.length).toBe(emitted.length);
    },
  );

  it('the hold-time alarms watch the HoldTime documents the Holds function emits (p90 of routed holds; any expired hold)', () => {
    const source = readFileSync(new URL('../../src/handlers/holds.ts', import.meta.url), 'utf8');
    expect(source).toContain("addMetric('HoldTime'");
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    const { metrics } = createTelemetry('holds', 'prod');
    const single = metrics.singleMetric();
    single.addDimensions({ outcome: 'routed', ended: 'decided_again' });
    single.addMetric('HoldTime', MetricUnit.Milliseconds, 1);
    vi.restoreAllMocks();
    const emf = JSON.parse(written.find((line) => line.includes('"_aws"')) ?? '{}') as TemplateDict & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    };
    const [directive] = emf._aws.CloudWatchMetrics;
    const emitted = (directive?.Dimensions[0] ?? []).map((name) => ({ Name: name, Value: emf[name] }));
    const prod = deployment({ Stage: 'prod' });
    const alarm = prod.value(template.Resources.HoldTimeAlarm?.Properties) as TemplateDict;
    expect(alarm).toMatchObject({
      Namespace: directive?.Namespace,
      MetricName: 'HoldTime',
      ExtendedStatistic: 'p90',
    });
    expect(alarm.Dimensions).toEqual(expect.arrayContaining(emitted.map((d) => expect.objectContaining(d))));
    expect((alarm.Dimensions as unknown[]).length).toBe(emitted.length);
    const expired = prod.value(template.Resources.HoldsExpiredAlarm?.Properties) as TemplateDict;
    expect(expired.Dimensions).toContainEqual({ Name: 'ended', Value: 'max_hold' });
  });

  it('the dashboard shows every alarm the stack always creates', () => {
    const prod = deployment({ Stage: 'prod', AlarmTopicArn: ONCALL });
    const body = prod.string(template.Resources.Dashboard?.Properties?.DashboardBody);
    for (const [id, alarm] of Object.entries(template.Resources)) {
      if (alarm.Type === 'AWS::CloudWatch::Alarm' && alarm.Condition === undefined) {
        expect(body, id).toContain(`<${id}.Arn>`);
      }
    }
  });
});
