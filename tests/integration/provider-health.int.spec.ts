import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { loadHealthSignalsConfig } from '../../src/config/health-signals-config.ts';
import { healthSignalsDependencies } from '../../src/handlers/health-signals.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { applyTransition, initialBreakerState } from '../../src/provider-health/breaker.ts';
import { attemptKeyOf } from '../../src/provider-health/signals.ts';
import {
  anAttemptEvent,
  aRecentAttemptEvent,
  aSignalFunction,
  aStatusEvent,
  RECENT_BUCKET,
} from '../support/health-signals.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
let handler: ReturnType<typeof aSignalFunction>;
const documents = createDocumentClient();
const logOf = () => new DynamoDbRoutingLog(documents, stack.tables.routingLog);
const storeOf = () =>
  new DynamoDbProviderHealthStore(documents, {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });

beforeAll(async () => {
  stack = await aProvisionedStack();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  // The deployed entry's wiring (src/lambda/health-signals.ts), one signal per SQS batch.
  handler = aSignalFunction(
    healthSignalsDependencies(loadHealthSignalsConfig(process.env)),
    createTelemetry('health-signals', stack.stage),
  );
});

describe('health signals against DynamoDB Local', () => {
  it('given a fal outage, when 5 failures arrive (each twice), then the breaker opens once and the transition is in the log', async () => {
    const model = `m${Date.now().toString(36)}`;
    const events = [0, 1, 2, 3, 4].map((s) => anAttemptEvent({ model }, { seconds: s }));
    const redeliveries = [];
    for (const event of events) {
      expect((await handler(event, aLocalLambdaContext())).outcome).toBe('recorded');
      redeliveries.push((await handler(structuredClone(event), aLocalLambdaContext())).outcome);
    }
    // The last redelivery meets an open breaker, which ignores it before the marker is even needed.
    expect(redeliveries).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'unchanged']);
    const stored = await storeOf().load({ provider: 'fal', model });
    expect(stored.state).toMatchObject({
      status: 'open',
      version: 1,
      openings: 1,
      reason: 'consecutive_failures',
    });
    expect(await logOf().readStream(`health#fal#${model}`)).toMatchObject([
      {
        type: 'ProviderHealthChanged',
        data: { transition: { status: 'open', causedBy: attemptKeyOf(events[4]?.detail as never) } },
        metadata: { version: 1 },
      },
    ]);
  });

  it('given concurrent signals for one breaker, when processed at once, then every one is counted exactly once', async () => {
    const model = `c${Date.now().toString(36)}`;
    const events = [0, 1, 2, 3].map((s) =>
      aRecentAttemptEvent({ model, outcome: 'succeeded', errorClass: null }, s),
    );
    await Promise.all([...events, ...events].map((e) => handler(structuredClone(e), aLocalLambdaContext())));
    // Successes raise the success register (the newest success's time), never the breaker item.
    expect(await storeOf().readSuccessRegister(`fal#${model}`)).toBe(
      new Date(RECENT_BUCKET + 3_000).toISOString(),
    );
    expect((await storeOf().load({ provider: 'fal', model })).rev).toBe(0);
  });

  it('given transitions and operator changes, when the health stream is replayed, then it rebuilds the stored health view', async () => {
    const provider = `r${Date.now().toString(36)}`;
    const steps = [
      ...[0, 1, 2, 3, 4].map((s) => anAttemptEvent({ provider, model: null }, { seconds: s })),
      aStatusEvent({ provider, state: 'forced_open' }, { seconds: 10 }),
      aStatusEvent({ provider, state: 'auto' }, { seconds: 20 }),
    ];
    for (const event of steps) await handler(event, aLocalLambdaContext());
    const records = await logOf().readStream(`health#${provider}`);
    const rebuilt = records.reduce(
      (state, record) =>
        record.type === 'ProviderHealthChanged' ? applyTransition(state, record.data.transition) : state,
      initialBreakerState(provider),
    );
    const { state } = await storeOf().load({ provider, model: null });
    const view = (s: typeof state) => [
      s.version,
      s.status,
      s.mode,
      s.since,
      s.reason,
      s.openUntil,
      s.openings,
    ];
    expect(records).toHaveLength(3);
    expect(view(rebuilt)).toEqual(view(state));
    expect(state).toMatchObject({ status: 'closed', mode: 'auto', version: 3 });
  });

  it('given a malformed signal, then it is refused without a write', async () => {
    const response = await handler(anAttemptEvent({ outcome: 'exploded' }), aLocalLambdaContext());
    expect(response).toEqual({ outcome: 'refused', problem: 'invalid attempt signal: outcome' });
  });
});
