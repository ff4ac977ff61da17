/**
 * A new provider is configuration, end to end on the emulators: an operator publishes a routing
 * table that declares `veo` (model veo-3-fast, queue VeoJobQueue) and gives the projector the Veo
 * queue's URL (PROVIDER_QUEUE_URLS) — no code change — and an explicit Veo job goes router → log →
 * projector → the Veo queue. A provider no table declares stays unknown_provider.
 */

import { join } from 'node:path';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { readJob, receiveAll, uniqueStage } from '../support/local-aws.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

const withVeo = {
  ...defaultRoutingTable,
  version: 'with-veo',
  providers: {
    ...defaultRoutingTable.providers,
    veo: { queue: 'VeoJobQueue', models: { 'veo-3-fast': { pricePerSecond: 0.4 } } },
  },
  rules: [
    {
      id: 'explicit-veo',
      description: 'The request names veo explicitly: respect it.',
      when: { requestedProvider: ['veo'] },
      route: { provider: 'veo', model: 'veo-3-fast' },
    },
    ...defaultRoutingTable.rules,
  ],
};

let stack: LocalStack;
let veoQueueUrl: string;
const sqs = new SQSClient({});
const veoJob = aSubmissionDetail({ provider: 'veo', lengthSec: 6, resolution: '1080p' });
const soraJob = aSubmissionDetail({ provider: 'sora' });

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...process.env, ...handlerEnvironment(stack), USER: 'operator' },
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  stack = await provisionLocalStack({ stage: uniqueStage('v') });
  // The one piece of infrastructure a new provider needs: its queue, and its URL in the mapping.
  ({ QueueUrl: veoQueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: `VeoJobQueue-${stack.stage}` }),
  ));
  const env = {
    ...handlerEnvironment(stack),
    PROVIDER_QUEUE_URLS: JSON.stringify({ veo: veoQueueUrl }),
    RULES_CACHE_SECONDS: '0',
  };

  const file = join(await anEventDirectory({ 'with-veo.json': withVeo }), 'with-veo.json');
  const published = await cli('rules', 'publish', file, '--why', 'Veo is live');
  expect(published.stderr).toBe('');
  expect(published.code).toBe(0);

  const router = createRouterHandler(routerDependencies(loadRouterConfig(env)), createTelemetry('router'));
  for (const detail of [veoJob, soraJob])
    await router(aSubmittedEvent(detail), aLocalLambdaContext('router'));
  const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  const projector = createProjectorHandler(
    projectorPorts(loadProjectorConfig(env)),
    createTelemetry('projector'),
  );
  // Three records: the rules publication (skipped: no side effect) and the two decisions.
  expect(await poller.drain(projector, { minRecords: 3 })).toMatchObject({ delivered: 3, failed: 0 });
  poller.destroy();
});

afterAll(async () => {
  sqs.destroy();
  await removeEventDirectories();
});

describe('a provider added by publishing a table and one queue URL', () => {
  it('given an explicit Veo job, when routed and projected, then exactly one message is on the Veo queue with veo-3-fast', async () => {
    const messages = await receiveAll(veoQueueUrl, { expected: 1 });
    expect(messages).toHaveLength(1);
    expect(JSON.parse((messages[0] as { body: string }).body)).toMatchObject({
      jobId: veoJob.jobId,
      provider: 'veo',
      requestedProvider: 'veo',
      model: 'veo-3-fast',
      queue: 'VeoJobQueue',
      dispatchId: `${veoJob.jobId}:v1`,
    });
    expect(await readJob(stack, veoJob.jobId as string)).toMatchObject({
      status: 'ROUTED',
      provider: 'veo',
      model: 'veo-3-fast',
    });
  });

  it('given a provider no published table declares, when routed, then it is rejected as unknown_provider', async () => {
    const history = await cli('history', soraJob.jobId as string, '--json');
    expect(JSON.parse(history.stdout)).toMatchObject({
      records: [{ type: 'RoutingRejected', reason: 'unknown_provider' }],
    });
  });
});
