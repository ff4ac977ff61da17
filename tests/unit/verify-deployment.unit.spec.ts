import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runVerify, type VerifyDependencies } from '../../src/verify/main.ts';
import {
  type CheckResult,
  SharedQueuesError,
  StackNotReadyError,
  sampleSubmission,
  type VerifyClients,
  verifyDeployment,
} from '../../src/verify/verify-deployment.ts';
import { aCapturedOutput } from '../support/captured-output.ts';

const cloudformation = mockClient(CloudFormationClient);
const events = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const documents = mockClient(DynamoDBDocumentClient);
const cloudwatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);

const JOB_ID = '0b8e2c1a-5f0e-4d6a-9c33-7d1f2b9e4a10';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/routing-manager-verify-dev-0b8e2c1a5f0e';
const RULE_ARN = 'arn:aws:events:us-east-1:123456789012:rule/routing-manager-verify-dev-0b8e2c1a5f0e';

const clients = (): VerifyClients => ({
  cloudformation: new CloudFormationClient({}),
  events: new EventBridgeClient({}),
  sqs: new SQSClient({}),
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  cloudwatch: new CloudWatchClient({}),
  logs: new CloudWatchLogsClient({}),
});

/** A clock that moves only when waited on: 1 s per read, pauses add their length. */
function aClock() {
  let t = Date.parse('2026-11-25T12:00:00Z');
  const pauses: number[] = [];
  return {
    now: () => {
      t += 1000;
      return t;
    },
    pause: async (ms: number) => {
      pauses.push(ms);
      t += ms;
    },
    pauses,
  };
}

function environment(clock = aClock()) {
  const reported: CheckResult[] = [];
  return {
    env: {
      clients: clients(),
      now: clock.now,
      pause: clock.pause,
      newId: () => JOB_ID,
      report: (c: CheckResult) => reported.push(c),
    },
    reported,
    clock,
  };
}

const message = (event: object) => ({ Body: JSON.stringify(event), ReceiptHandle: 'rh' });
const probe = { source: 'routing-manager.verify', 'detail-type': 'verify.probe', detail: { jobId: JOB_ID } };
const routed = {
  source: 'routing.manager',
  'detail-type': 'video.job.routed',
  detail: { jobId: JOB_ID, provider: 'fal', model: 'wan-i2v', queue: 'FalJobQueue' },
};

function givenAStackThatRoutes(outputs: Record<string, string> = {}) {
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'routing-manager-dev',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries({
          EventBusName: 'default',
          JobsTableName: 'Jobs-dev',
          ProviderQueuesCreatedByStack: 'true',
          RoutingEventsLogGroupName: '/aws/events/RoutingManager-dev',
          ...outputs,
        }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  sqs.on(CreateQueueCommand).resolves({ QueueUrl: QUEUE_URL });
  sqs
    .on(GetQueueAttributesCommand)
    .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:123456789012:q' } });
  events.on(PutRuleCommand).resolves({ RuleArn: RULE_ARN });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [message(probe)] })
    .resolvesOnce({ Messages: [{ Body: 'not json', ReceiptHandle: 'x' }, message(routed)] })
    .resolves({});
  documents.on(GetCommand).resolves({ Item: { jobId: JOB_ID, status: 'ROUTED', provider: 'fal' } });
  // The log group: nothing yet on the first read, then another job's event, noise, and the sample's.
  logs
    .on(FilterLogEventsCommand)
    .resolvesOnce({ events: [] })
    .resolvesOnce({
      events: [{ message: JSON.stringify({ ...routed, detail: { jobId: 'other' } }) }],
      nextToken: 'n',
    })
    .resolves({ events: [{ message: 'not json' }, { message: JSON.stringify(routed) }] });
  cloudwatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [{ Id: 'heartbeat', Timestamps: [new Date('2026-11-25T11:58:00Z')], Values: [2] }],
  });
}

const resetMocks = () => {
  for (const mock of [cloudformation, events, sqs, documents, cloudwatch, logs]) mock.reset();
};
beforeEach(resetMocks);

describe('verifyDeployment', () => {
  it('given a stack that routes, when verified, then every DoD check passes in order and the temporary rule and queue are deleted', async () => {
    givenAStackThatRoutes();
    const { env, reported } = environment();
    const result = await verifyDeployment({ stage: 'dev' }, env);

    expect(result.ok).toBe(true);
    expect(result.jobId).toBe(JOB_ID);
    expect(reported.map((c) => [c.name, c.ok])).toEqual([
      ['stack', true],
      ['capture', true],
      ['submitted', true],
      ['routed', true],
      ['logged', true],
      ['jobs', true],
      ['heartbeat', true],
      ['cleanup', true],
    ]);
    expect(reported.find((c) => c.name === 'routed')?.detail).toMatch(/fal \/ wan-i2v \/ FalJobQueue/);
    expect(reported.find((c) => c.name === 'logged')?.detail).toMatch(
      new RegExp(`^video.job.routed of ${JOB_ID} in /aws/events/RoutingManager-dev`),
    );
    const filter = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(filter).toMatchObject({
      logGroupName: '/aws/events/RoutingManager-dev',
      filterPattern: `"${JOB_ID}"`,
    });
    expect(reported.find((c) => c.name === 'heartbeat')?.detail).toContain('2026-11-25T11:58:00.000Z');
    expect(cloudformation.commandCalls(DescribeStacksCommand)[0]?.args[0].input.StackName).toBe(
      'routing-manager-dev',
    );
    expect(events.commandCalls(RemoveTargetsCommand)).toHaveLength(1);
    expect(events.commandCalls(DeleteRuleCommand)).toHaveLength(1);
    expect(sqs.commandCalls(DeleteQueueCommand)[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(sqs.commandCalls(DeleteMessageBatchCommand).length).toBeGreaterThan(0);
  });

  it('captures only this run: the rule matches its jobId, the queue accepts that rule only', async () => {
    givenAStackThatRoutes();
    await verifyDeployment({ stage: 'dev' }, environment().env);
    const rule = events.commandCalls(PutRuleCommand)[0]?.args[0].input;
    expect(JSON.parse(rule?.EventPattern ?? '{}')).toEqual({
      source: ['routing.manager', 'routing-manager.verify'],
      detail: { jobId: [JOB_ID] },
    });
    expect(rule?.EventBusName).toBe('default');
    const policy = JSON.parse(
      sqs.commandCalls(SetQueueAttributesCommand)[0]?.args[0].input.Attributes?.Policy ?? '{}',
    );
    expect(policy.Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Condition: { ArnEquals: { 'aws:SourceArn': RULE_ARN } },
    });
    expect(events.commandCalls(PutTargetsCommand)[0]?.args[0].input.Targets).toEqual([
      { Id: 'capture', Arn: 'arn:aws:sqs:us-east-1:123456789012:q' },
    ]);
  });

  it('publishes the fal sample with only the jobId replaced, after the probe arrived', async () => {
    givenAStackThatRoutes();
    await verifyDeployment({ stage: 'dev' }, environment().env);
    const [first, second] = events
      .commandCalls(PutEventsCommand)
      .map((call) => call.args[0].input.Entries?.[0]);
    expect(first?.Source).toBe('routing-manager.verify');
    expect(second).toMatchObject({
      Source: 'frontend.api',
      DetailType: 'video.job.submitted',
      EventBusName: 'default',
    });
    expect(JSON.parse(second?.Detail ?? '{}')).toEqual(sampleSubmission(JOB_ID).detail);
    expect(sampleSubmission(JOB_ID).detail).toMatchObject({
      jobId: JOB_ID,
      lengthSec: 8,
      resolution: '720p',
    });
  });

  it('given the job is rejected, then the routed check fails with the reason, and the rest still runs and cleans up', async () => {
    givenAStackThatRoutes();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message(probe)] })
      .resolvesOnce({
        Messages: [
          message({
            source: 'routing.manager',
            'detail-type': 'video.job.rejected',
            detail: { jobId: JOB_ID, status: 'rejected', reason: 'no_route' },
          }),
        ],
      });
    documents.on(GetCommand).resolves({ Item: { jobId: JOB_ID, status: 'REJECTED' } });
    const { env, reported } = environment();
    const result = await verifyDeployment({ stage: 'dev', timeoutMs: 30_000, pollIntervalMs: 5_000 }, env);
    expect(result.ok).toBe(false);
    expect(reported.find((c) => c.name === 'routed')).toEqual({
      name: 'routed',
      ok: false,
      detail: 'video.job.rejected, reason no_route',
    });
    expect(reported.find((c) => c.name === 'jobs')?.detail).toBe(
      'Jobs-dev row has status REJECTED at the deadline',
    );
    expect(reported.at(-1)).toMatchObject({ name: 'cleanup', ok: true });
  });

  it('given nothing arrives, when the deadline passes, then the routed, Jobs and heartbeat checks fail by name', async () => {
    givenAStackThatRoutes();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message(probe)] })
      .resolves({});
    documents.on(GetCommand).resolves({});
    logs.on(FilterLogEventsCommand).resolves({});
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'heartbeat', Timestamps: [], Values: [] }] });
    const { env, reported, clock } = environment();
    const result = await verifyDeployment({ stage: 'dev', timeoutMs: 20_000, pollIntervalMs: 2_000 }, env);
    expect(result.ok).toBe(false);
    expect(reported.filter((c) => !c.ok).map((c) => c.detail)).toEqual([
      'no video.job.routed or video.job.rejected before the deadline',
      `no routing.manager event of ${JOB_ID} in /aws/events/RoutingManager-dev at the deadline`,
      'Jobs-dev row missing at the deadline',
      'no Agent/RoutingManager Heartbeat datapoint for Stage=dev within 600.0 s',
    ]);
    expect(clock.pauses.every((ms) => ms === 2_000)).toBe(true);
  });

  it('given the temporary rule never delivers, then nothing is submitted and the rule and queue are still deleted', async () => {
    givenAStackThatRoutes();
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    const { env, reported } = environment();
    const result = await verifyDeployment({ stage: 'dev', timeoutMs: 5_000 }, env);
    expect(result.ok).toBe(false);
    expect(reported.map((c) => c.name)).toEqual(['stack', 'capture', 'cleanup']);
    const sources = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.[0]?.Source);
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.every((source) => source === 'routing-manager.verify')).toBe(true);
    expect(sqs.commandCalls(DeleteQueueCommand)).toHaveLength(1);
  });

  it('given PutEvents refuses the sample, then the submitted check says why', async () => {
    givenAStackThatRoutes();
    events
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{}] })
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException' }] });
    const { env, reported } = environment();
    await verifyDeployment({ stage: 'dev', timeoutMs: 10_000 }, env);
    expect(reported.find((c) => c.name === 'submitted')).toEqual({
      name: 'submitted',
      ok: false,
      detail: 'PutEvents refused the sample: AccessDeniedException',
    });
  });

  it('given no stack, then it says to deploy first and creates nothing', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        message: 'Stack with id routing-manager-dev does not exist',
        $fault: 'client',
        $metadata: {},
      }),
    );
    await expect(verifyDeployment({ stage: 'dev' }, environment().env)).rejects.toThrow(StackNotReadyError);
    await expect(verifyDeployment({ stage: 'dev' }, environment().env)).rejects.toThrow(/npm run deploy/);
    expect(sqs.commandCalls(CreateQueueCommand)).toEqual([]);
  });

  it('given a stack from an older template without the outputs, then it says to re-deploy', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 's', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() }] });
    await expect(verifyDeployment({ stage: 'dev' }, environment().env)).rejects.toThrow(/re-deploy/);
  });

  it('any other DescribeStacks failure is passed on as it is', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(verifyDeployment({ stage: 'dev' }, environment().env)).rejects.toThrow('denied');
  });

  it("given a stack routing to the platform's queues, then it refuses unless allowed", async () => {
    givenAStackThatRoutes({ ProviderQueuesCreatedByStack: 'false' });
    await expect(verifyDeployment({ stage: 'prod' }, environment().env)).rejects.toThrow(SharedQueuesError);
    expect(sqs.commandCalls(CreateQueueCommand)).toEqual([]);
    const allowed = await verifyDeployment({ stage: 'prod', allowSharedQueues: true }, environment().env);
    expect(allowed.ok).toBe(true);
  });

  it('given the bus and Jobs table explicitly, then the stack is not read', async () => {
    givenAStackThatRoutes();
    const result = await verifyDeployment(
      { stage: 'loc', eventBusName: 'routing-loc', jobsTable: 'Jobs-loc' },
      environment().env,
    );
    expect(result.ok).toBe(true);
    expect(cloudformation.commandCalls(DescribeStacksCommand)).toEqual([]);
    expect(events.commandCalls(PutRuleCommand)[0]?.args[0].input.EventBusName).toBe('routing-loc');
  });

  it('given the capture cannot be completed, then what was created is deleted and the error passed on', async () => {
    givenAStackThatRoutes();
    events
      .on(PutTargetsCommand)
      .rejects(Object.assign(new Error('limit'), { name: 'LimitExceededException' }));
    events.on(RemoveTargetsCommand).rejects(new ResourceNotFoundException({ message: 'x', $metadata: {} }));
    await expect(verifyDeployment({ stage: 'dev' }, environment().env)).rejects.toThrow('limit');
    expect(events.commandCalls(DeleteRuleCommand)).toHaveLength(1);
    expect(sqs.commandCalls(DeleteQueueCommand)).toHaveLength(1);
  });

  it('given the cleanup is denied, then the cleanup check fails and names what to delete by hand', async () => {
    givenAStackThatRoutes();
    sqs.on(DeleteQueueCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDenied' }));
    const { env, reported } = environment();
    const result = await verifyDeployment({ stage: 'dev' }, env);
    expect(result.ok).toBe(false);
    expect(reported.at(-1)).toEqual({
      name: 'cleanup',
      ok: false,
      detail: 'delete routing-manager-verify-dev-0b8e2c1a5f0e by hand (queue: AccessDenied)',
    });
  });
});

describe('npm run verify', () => {
  const dependencies = (): VerifyDependencies => {
    const clock = aClock();
    return { clients: () => clients(), now: clock.now, pause: clock.pause, newId: () => JOB_ID };
  };
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const code = await runVerify(argv, { stdout: stdout.stream, stderr: stderr.stream, env }, dependencies());
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  it('prints one line per check and exits 0 when the Definition of Done is met', async () => {
    givenAStackThatRoutes();
    const { code, stdout } = await run(['--stage', 'dev'], { AWS_REGION: 'eu-west-1' });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^verifying stage dev in eu-west-1 \(deadline 420 s\)/);
    expect(stdout).toMatch(/✔ routed {4}video\.job\.routed: fal/);
    expect(stdout).toContain(`Definition of Done met: job ${JOB_ID}`);
    expect(stdout).not.toContain('corgi'); // never the prompt
  });

  it('exits 1 when a check fails, 3 without a stack, 2 for shared queues and for usage errors', async () => {
    givenAStackThatRoutes();
    documents.on(GetCommand).resolves({});
    expect((await run(['--stage', 'dev', '--timeout', '5'])).code).toBe(1);

    cloudformation.reset();
    cloudformation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        message: 'gone',
        $fault: 'client',
        $metadata: {},
      }),
    );
    const missing = await run(['--stage', 'dev', '--stack-name', 'other', '--region', 'us-east-1']);
    expect(missing).toMatchObject({ code: 3, stderr: expect.stringContaining('stack other not found') });

    resetMocks();
    givenAStackThatRoutes({ ProviderQueuesCreatedByStack: 'false' });
    expect((await run(['--stage', 'prod'])).code).toBe(2);
    expect((await run(['--stage', 'prod', '--allow-shared-queues'])).code).toBe(0);

    expect((await run([])).code).toBe(2);
    expect((await run(['--stage', 'Not-A-Stage'])).code).toBe(2);
    expect((await run(['--stage', 'dev', '--timeout', '-1'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
  });

  it('exits 1 on an AWS failure, with the error on stderr', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'Throttling' }));
    expect(await run(['--stage', 'dev', '--event-bus', 'b'])).toMatchObject({
      code: 1,
      stderr: 'verify: throttled\n',
    });
  });

  it('passes explicit resources through, so no stack is read', async () => {
    givenAStackThatRoutes();
    const { code } = await run(['--stage', 'loc', '--event-bus', 'routing-loc', '--jobs-table', 'Jobs-loc']);
    expect(code).toBe(0);
    expect(cloudformation.commandCalls(DescribeStacksCommand)).toEqual([]);
  });
});
