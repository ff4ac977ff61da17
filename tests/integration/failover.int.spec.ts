/**
 * Provider health end to end on the emulators: signals through the HealthSignals handler, decisions
 * through the router handler, both on the same tables.
 */

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { anAttemptEvent, aSignalFunction, aStatusEvent, submitterTo } from '../support/health-signals.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

let stack: LocalStack;
let route: ReturnType<typeof createRouterHandler>;
let signal: ReturnType<typeof aSignalFunction>;
let store: DynamoDbProviderHealthStore;

beforeAll(async () => {
  stack = await aProvisionedStack();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const env = { ...handlerEnvironment(stack), HEALTH_CACHE_SECONDS: '0' };
  route = createRouterHandler(
    routerDependencies(loadRouterConfig(env)),
    createTelemetry('router', stack.stage),
  );
  store = new DynamoDbProviderHealthStore(createDocumentClient(), {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });
  signal = aSignalFunction({ store }, createTelemetry('health-signals', stack.stage));
});

const submit = (detail: Record<string, unknown>) => submitterTo(route)(detail);

describe('failover on provider health (emulators)', () => {
  it('given a fal outage reported earlier today, then auto jobs probe fal once, fail over meanwhile, and 3 probe successes close it', async () => {
    // 5 server errors at 14:00 today: open until ~14:01, so by now (later) the breaker is half-open.
    for (const s of [0, 1, 2, 3, 4]) await signal(anAttemptEvent({}, { seconds: s }), aLocalLambdaContext());
    expect((await store.load({ provider: 'fal', model: 'wan-i2v' })).state.status).toBe('open');

    const explicit = await submit({ provider: 'fal' });
    expect(explicit).toMatchObject({ decision: 'routed', provider: 'fal' });

    const probes: string[] = [];
    for (let round = 0; round < 3; round++) {
      const probe = await submit({ provider: 'auto' });
      const meanwhile = await submit({ provider: 'auto' });
      expect([probe.provider, meanwhile.provider]).toEqual(['fal', 'replicate']);
      const [failedOver] = await new DynamoDbRoutingLog(
        createDocumentClient(),
        stack.tables.routingLog,
      ).readStream(meanwhile.stream);
      expect(failedOver).toMatchObject({
        data: {
          explanation: {
            candidates: expect.arrayContaining([
              expect.objectContaining({
                provider: 'fal',
                reason: 'provider_unhealthy',
                breaker: 'fal#wan-i2v',
              }),
            ]),
          },
        },
      });
      probes.push(probe.jobId as string);
      const success = anAttemptEvent(
        { jobId: probe.jobId, outcome: 'succeeded', errorClass: null },
        { seconds: 3600 + round },
      );
      await signal(success, aLocalLambdaContext());
    }
    const { state } = await store.load({ provider: 'fal', model: 'wan-i2v' });
    expect(state).toMatchObject({ status: 'closed', openings: 0, reason: 'probes_succeeded' });
    expect(await submit({ provider: 'auto' })).toMatchObject({ provider: 'fal' });
    expect(probes).toHaveLength(3);
  });

  it('given an operator forces Replicate open, then explicit Replicate jobs still go there and record healthIgnored', async () => {
    await signal(aStatusEvent({ provider: 'replicate', state: 'forced_open' }), aLocalLambdaContext());
    const routed = await submit({ provider: 'replicate' });
    expect(routed).toMatchObject({ decision: 'routed', provider: 'replicate' });
    const [decision] = await new DynamoDbRoutingLog(
      createDocumentClient(),
      stack.tables.routingLog,
    ).readStream(routed.stream);
    expect(decision).toMatchObject({
      data: { explanation: { health: { read: 'ok', healthIgnored: true } } },
    });
    await signal(
      aStatusEvent({ provider: 'replicate', state: 'auto' }, { seconds: 1 }),
      aLocalLambdaContext(),
    );
  });
});
