/**
 * `npm run verify` against the emulators. A SAM stack cannot run there (no Lambda), so the test
 * stands in for the deployment: a local stack provisioned from template.yaml, an intake rule on its
 * bus feeding an SQS queue that a small driver hands to the real router and projector handlers, a
 * heartbeat beat from the real heartbeat handler, and a CloudFormation stack on moto that carries
 * the outputs verify reads (DescribeStacks). verify itself runs unchanged, with real SDK clients.
 */
import { randomUUID } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import {
  DeleteRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(async () => {
  const { applyPlaceholderHandlerEnvironment } = await import('../support/quiet-handler-env.ts');
  applyPlaceholderHandlerEnvironment();
});

import { createProjectorHandler, portsFromEnvironment } from '../../src/handlers/projector.ts';
import { createRouterHandler, routerDependenciesFromEnvironment } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { awsDependencies, runVerify } from '../../src/verify/main.ts';
import { verifyDeployment } from '../../src/verify/verify-deployment.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { uniqueStage } from '../support/local-aws.ts';

// moto serves CloudFormation on the same endpoint as everything else.
process.env.AWS_ENDPOINT_URL_CLOUDFORMATION ??= process.env.AWS_ENDPOINT_URL_SQS;

const sqs = new SQSClient({});
const events = new EventBridgeClient({});
const cloudformation = new CloudFormationClient({});
let stack: LocalStack;
let stopDriver: () => Promise<void>;

/** Routes what arrives on the intake queue through the real router, then drains the stream into the real projector. */
function startDriver(intakeUrl: string) {
  const environment = handlerEnvironment(stack);
  const router = createRouterHandler(
    routerDependenciesFromEnvironment(environment),
    createTelemetry('router'),
  );
  const projector = createProjectorHandler(portsFromEnvironment(environment), createTelemetry('projector'));
  const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  let running = true;
  const loop = (async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: intakeUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
      );
      for (const message of Messages) {
        const event = JSON.parse(message.Body ?? '{}') as EventBridgeEvent<'video.job.submitted', unknown>;
        await router(event, aLocalLambdaContext('router-verify'));
        await poller.drain(projector, { minRecords: 1, timeoutMs: 15_000 });
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: intakeUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** One beat of the real heartbeat handler for the stack's stage (the schedule's tick, now). */
async function beatOnce() {
  const scheduled: ScheduledEvent = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
  vi.stubEnv('STAGE', stack.stage);
  vi.stubEnv('EVENT_LOG_TABLE', stack.tables.routingLog);
  try {
    const { handler } = await import('../../src/handlers/heartbeat.ts');
    await handler(scheduled, aLocalLambdaContext('heartbeat-verify'));
  } finally {
    vi.unstubAllEnvs();
  }
}

beforeAll(async () => {
  stack = await provisionLocalStack({ stage: uniqueStage('v') });
  // The deployment's JobSubmittedRule, with an SQS target (moto delivers to SQS, not Lambda).
  const { QueueUrl: intakeUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `intake-${stack.stage}` }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: intakeUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({
      Name: `intake-${stack.stage}`,
      EventBusName: stack.eventBusName,
      EventPattern: JSON.stringify({ source: ['frontend.api'], 'detail-type': ['video.job.submitted'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: `intake-${stack.stage}`,
      EventBusName: stack.eventBusName,
      Targets: [{ Id: 'intake', Arn: Attributes?.QueueArn }],
    }),
  );
  stopDriver = startDriver(intakeUrl as string);
  await beatOnce();
});

afterAll(async () => {
  await stopDriver?.();
  await events.send(
    new RemoveTargetsCommand({
      Rule: `intake-${stack.stage}`,
      EventBusName: stack.eventBusName,
      Ids: ['intake'],
    }),
  );
  await events.send(
    new DeleteRuleCommand({ Name: `intake-${stack.stage}`, EventBusName: stack.eventBusName }),
  );
  sqs.destroy();
  events.destroy();
  cloudformation.destroy();
});

describe('npm run verify on the emulators', () => {
  it('given a stack that routes and beats, when verified by its outputs, then every DoD check passes and nothing temporary is left', async () => {
    const stackName = `routing-manager-${stack.stage}`;
    await cloudformation.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify({
          Resources: { Placeholder: { Type: 'AWS::SQS::Queue' } },
          Outputs: {
            EventBusName: { Value: stack.eventBusName },
            JobsTableName: { Value: stack.tables.jobs },
            ProviderQueuesCreatedByStack: { Value: 'true' },
          },
        }),
      }),
    );
    try {
      const clients = awsDependencies.clients('us-east-1');
      const result = await verifyDeployment(
        { stage: stack.stage, stackName, timeoutMs: 45_000, pollIntervalMs: 200 },
        { ...awsDependencies, clients },
      ).finally(() => {
        for (const client of Object.values(clients)) client.destroy();
      });
      expect(result.checks.map((check) => [check.name, check.ok])).toEqual([
        ['stack', true],
        ['capture', true],
        ['submitted', true],
        ['routed', true],
        ['jobs', true],
        ['heartbeat', true],
        ['cleanup', true],
      ]);
      expect(result.checks.find((c) => c.name === 'routed')?.detail).toMatch(/fal \/ wan-i2v \/ FalJobQueue/);
    } finally {
      await cloudformation.send(new DeleteStackCommand({ StackName: stackName }));
    }
    const { Rules = [] } = await events.send(new ListRulesCommand({ EventBusName: stack.eventBusName }));
    expect(Rules.map((rule) => rule.Name)).not.toContainEqual(
      expect.stringMatching(/^routing-manager-verify-/),
    );
    const { QueueUrls = [] } = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: `routing-manager-verify-${stack.stage}` }),
    );
    expect(QueueUrls).toEqual([]);
  });

  it('given the resources explicitly, when run from the command line, then it prints each check and exits 0', async () => {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const code = await runVerify(
      [
        '--stage',
        stack.stage,
        '--region',
        'us-east-1',
        '--event-bus',
        stack.eventBusName,
        '--jobs-table',
        stack.tables.jobs,
        '--timeout',
        '45',
      ],
      { stdout: stdout.stream, stderr: stderr.stream, env: {} },
    );
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    expect(stdout.lines().filter((line) => line.startsWith('✔'))).toHaveLength(7);
  });
});
