/** `routing-manager projector` against moto: the projector's IteratorAge and its on-failure queue. */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/provision.ts';
import { runCliOn } from '../support/cli-run.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
const NOW = new Date();

beforeAll(async () => {
  stack = await aProvisionedStack();
});

const cli = (...argv: string[]) => runCliOn(stack.stage, argv, { now: () => NOW });

describe('routing-manager projector (emulators)', () => {
  it('given a quiet stack, then there is no lag data and no abandoned batch', async () => {
    const { code, stdout } = await cli('projector', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      function: `RoutingManager-Projector-${stack.stage}`,
      lag: null,
      ages: [],
      abandoned: { queue: `RoutingProjector-OnFailure-${stack.stage}`, visible: 0, inFlight: 0 },
    });
  });

  it('given IteratorAge points and an abandoned batch, then it reports the latest and the maximum age and the waiting batch', async () => {
    const cloudwatch = new CloudWatchClient({});
    const sqs = new SQSClient({});
    try {
      const point = (minutesAgo: number, value: number) => ({
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: `RoutingManager-Projector-${stack.stage}` }],
        Timestamp: new Date(NOW.getTime() - minutesAgo * 60_000),
        Value: value,
        Unit: 'Milliseconds' as const,
      });
      await cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: 'AWS/Lambda',
          MetricData: [point(10, 90_000), point(2, 1_500)],
        }),
      );
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: `RoutingProjector-OnFailure-${stack.stage}` }),
      );
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"DDBStreamBatchInfo":{}}' }));
    } finally {
      cloudwatch.destroy();
      sqs.destroy();
    }
    const { stdout } = await cli('projector', '--json');
    const status = JSON.parse(stdout);
    expect(status.lag).toMatchObject({ latestMs: 1_500, maximumMs: 90_000 });
    expect(status.abandoned).toMatchObject({ visible: 1 });
    const table = await cli('projector');
    expect(table.stdout).toMatch(/lag \(IteratorAge\):\s+1\.5 s at .+ \(maximum 90\.0 s in the window\)/);
    expect(table.stdout).toMatch(
      /abandoned batches:\s+1 waiting in RoutingProjector-OnFailure-\w+ \(0 being read\): `redrive --dry-run`/,
    );
  });

  it('given a queue that does not exist, then it says so instead of failing', async () => {
    const { code, stdout } = await cli(
      'projector',
      '--on-failure-queue',
      'NoSuchQueue-x',
      '--function',
      'NoSuchFunction',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('queue NoSuchQueue-x not found');
    expect(stdout).toContain('no data point in the window');
  });
});
