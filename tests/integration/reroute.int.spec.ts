/**
 * Re-routing end to end on the emulators: the real router, the real HealthSignals handler (with
 * re-routing) and the real projector fed by the stream poller.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { loadHealthSignalsConfig } from '../../src/config/health-signals-config.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { healthSignalsDependencies } from '../../src/handlers/health-signals.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { anAttemptEvent, aSignalFunction, submitterTo } from '../support/health-signals.ts';
import { readJob, receiveAll } from '../support/local-aws.ts';
import { quietHandlerTelemetry, silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

let stack: LocalStack;
let route: ReturnType<typeof createRouterHandler>;
let signal: ReturnType<typeof aSignalFunction>;
let project: ReturnType<typeof createProjectorHandler>;
let poller: DynamoDbStreamPoller;

beforeAll(async () => {
  stack = await aProvisionedStack();
  silenceHandlerTelemetry();
  const env = { ...handlerEnvironment(stack), HEALTH_CACHE_SECONDS: '0' };
  route = createRouterHandler(
    routerDependencies(loadRouterConfig(env)),
    createTelemetry('router', stack.stage),
  );
  signal = aSignalFunction(
    healthSignalsDependencies(loadHealthSignalsConfig(env)),
    createTelemetry('health-signals', stack.stage),
  );
  project = createProjectorHandler(
    projectorPorts(loadProjectorConfig(env)),
    createTelemetry('projector', stack.stage),
  );
  poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
});

afterAll(() => poller?.destroy());

const submit = (detail: Record<string, unknown>) => submitterTo(route)(detail);

describe('re-routing after a terminal failure (emulators)', () => {
  it('given an auto job on fal, when fal fails it (reported twice), then one revision sends it to Replicate under a new dispatchId', async () => {
    const routed = await submit({ provider: 'auto' });
    expect(routed).toMatchObject({ provider: 'fal' });
    const jobId = routed.jobId as string;
    await poller.drain(project, { minRecords: 1, timeoutMs: 20_000 });

    const failure = anAttemptEvent({ jobId, errorClass: 'server_error' }, { seconds: 7 });
    const first = await signal(failure, aLocalLambdaContext());
    const again = await signal(structuredClone(failure), aLocalLambdaContext());
    const redelivered = await signal(
      { ...structuredClone(failure), id: 'another-publication' },
      aLocalLambdaContext(),
    );
    expect(first).toMatchObject({ revision: { outcome: 'revised', record: { metadata: { version: 2 } } } });
    // The copies meet a job already at v2: the failed v1 dispatch is no longer current (fencing).
    expect([again, redelivered].map((r) => (r as { revision?: unknown }).revision)).toEqual([
      { outcome: 'ignored', why: 'not_current' },
      { outcome: 'ignored', why: 'not_current' },
    ]);

    const records = await new DynamoDbRoutingLog(createDocumentClient(), stack.tables.routingLog).readStream(
      routed.stream,
    );
    expect(records.map((r) => r.type)).toEqual(['RoutingDecided', 'RoutingRevised']);

    await poller.drain(project, { minRecords: 1, timeoutMs: 20_000 });
    const [message, ...more] = await receiveAll(stack.queues.replicate, {
      expected: 1,
      accept: (m) => m.body.includes(jobId),
    });
    expect(more).toEqual([]);
    expect(JSON.parse(message?.body as string)).toMatchObject({
      jobId,
      provider: 'replicate',
      dispatchId: `${jobId}:v2`,
      routingVersion: 2,
    });
    expect(await readJob(stack, jobId)).toMatchObject({
      status: 'ROUTED',
      provider: 'replicate',
      routingVersion: 2,
    });
  });

  it('given an explicit fal job, when fal fails it, then it stays on fal: provider_failed, and unknown outcomes re-route nothing', async () => {
    const routed = await submit({ provider: 'fal' });
    const jobId = routed.jobId as string;
    const unknown = await signal(
      anAttemptEvent({ jobId, outcome: 'unknown', errorClass: 'timeout' }),
      aLocalLambdaContext(),
    );
    expect(unknown).not.toHaveProperty('revision');
    const failed = await signal(anAttemptEvent({ jobId }, { seconds: 9 }), aLocalLambdaContext());
    expect(failed).toMatchObject({
      revision: {
        outcome: 'revised',
        record: { data: { decision: { data: { reason: 'provider_failed' } } } },
      },
    });
  });
});
