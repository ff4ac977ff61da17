/**
 * `npm run verify` against the emulators. A SAM stack cannot run there (no Lambda), so the live
 * local stack stands in for the deployment (`npm run local -- --keep`: template.yaml's resources,
 * the submission rule feeding the real router through an intake queue, the followed stream feeding
 * the real projector), plus one beat of the real heartbeat handler and a CloudFormation stack on
 * moto that carries the outputs verify reads (DescribeStacks). verify itself runs unchanged, with
 * real SDK clients.
 */
import { randomUUID } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { type LocalRun, runLocal } from '../../src/local/run-local.ts';
import { awsDependencies, runVerify } from '../../src/verify/main.ts';
import { verifyDeployment } from '../../src/verify/verify-deployment.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { uniqueStage } from '../support/local-aws.ts';

// moto serves CloudFormation on the same endpoint as everything else.
process.env.AWS_ENDPOINT_URL_CLOUDFORMATION ??= process.env.AWS_ENDPOINT_URL_SQS;

const sqs = new SQSClient({});
const events = new EventBridgeClient({});
const cloudformation = new CloudFormationClient({});
let run: LocalRun;
let stack: LocalStack;

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
    const { handler } = await import('../../src/lambda/heartbeat.ts');
    await handler(scheduled, aLocalLambdaContext('heartbeat-verify'));
  } finally {
    vi.unstubAllEnvs();
  }
}

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  run = await runLocal({
    inputs: [],
    stage: uniqueStage('v'),
    emulators: inject('emulatorEndpoints'),
    live: { report: () => undefined, waitSeconds: 1 },
  });
  stack = run.stack;
  await beatOnce();
});

afterAll(async () => {
  await run?.stop();
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
            RoutingEventsLogGroupName: { Value: stack.routingEventsLogGroup },
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
        ['logged', true],
        ['jobs', true],
        ['heartbeat', true],
        ['cleanup', true],
      ]);
      expect(result.checks.find((c) => c.name === 'routed')?.detail).toMatch(/fal \/ wan-i2v \/ FalJobQueue/);
      // The routed record, read back from moto's CloudWatch Logs where the stack's rule put it.
      expect(result.checks.find((c) => c.name === 'logged')?.detail).toContain(stack.routingEventsLogGroup);
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
        '--events-log-group',
        stack.routingEventsLogGroup,
        '--timeout',
        '45',
      ],
      { stdout: stdout.stream, stderr: stderr.stream, env: {} },
    );
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    expect(stdout.lines().filter((line) => line.startsWith('✔'))).toHaveLength(8);
    expect(stdout.text()).toContain('in CloudWatch Logs');
  });
});
