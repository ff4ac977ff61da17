/**
 * Signals at any rate (issue 21) on DynamoDB Local: concurrent ingestion with redeliveries loses
 * nothing and counts nothing twice, and the consecutive-failure fast path still opens the breaker
 * when the successes never touch its item.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { recordHealthSignals } from '../../src/commands/record-health-signal.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { type HealthSignal, parseHealthSignal } from '../../src/provider-health/signals.ts';
import { type anAttemptEvent, aRecentAttemptEvent, RECENT_BUCKET } from '../support/health-signals.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
let handler: typeof import('../../src/lambda/health-signals.ts').handler;
const documents = createDocumentClient();
const storeOf = () =>
  new DynamoDbProviderHealthStore(documents, {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });
const BUCKET = RECENT_BUCKET;
const attempt = aRecentAttemptEvent;

beforeAll(async () => {
  stack = await aProvisionedStack();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  handler = (await import('../../src/lambda/health-signals.ts')).handler;
});

/** Runs `work` over `items` with `inFlight` at a time; the answers in the items' order. */
async function pool<T, R>(
  items: readonly T[],
  inFlight: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T);
      }
    }),
  );
  return out;
}

const parsed = (event: ReturnType<typeof anAttemptEvent>): HealthSignal => {
  const result = parseHealthSignal(event);
  if (!result.ok) throw new Error(result.problem);
  return result.signal;
};

describe('signal ingestion against DynamoDB Local', () => {
  it('given 300 successes and 3 failures of one breaker, each delivered twice, when the handler takes them 16 at a time, then 0 are lost and 0 counted twice', async () => {
    const model = `i${Date.now().toString(36)}`;
    const successes = Array.from({ length: 300 }, (_, i) =>
      attempt({ model, outcome: 'succeeded', errorClass: null }, i % 25),
    );
    const failures = [5, 12, 20].map((s) => attempt({ model }, s));
    const deliveries = [...successes, ...failures].flatMap((e) => [e, structuredClone(e)]);
    // Shuffled by a fixed permutation: redeliveries race their originals.
    const order = deliveries.map((_, i) => (i * 7919) % deliveries.length);
    const answers = await pool(order, 16, (i) =>
      handler(structuredClone(deliveries[i] as (typeof deliveries)[number]), aLocalLambdaContext()),
    );
    const outcomes = answers.map((a) => a.outcome);
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(303);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(303);
    const [tally] = await storeOf().readTally(`fal#${model}`, [BUCKET]);
    expect(tally?.successes).toBe(300);
    const { state } = await storeOf().load({ provider: 'fal', model });
    expect(state.status).toBe('closed');
    expect(state.window.reduce((sum, b) => sum + b.failures, 0)).toBe(3);
  });

  it('given a healthy breaker with successes tallied concurrently, when 5 counted failures follow in a row, then it opens at the fifth', async () => {
    const model = `o${Date.now().toString(36)}`;
    const successes = Array.from({ length: 60 }, (_, i) =>
      attempt({ model, outcome: 'succeeded', errorClass: null }, i % 10),
    );
    await pool(successes, 8, (e) => handler(e, aLocalLambdaContext()));
    const answers = [];
    for (let s = 10; s < 15; s++) answers.push(await handler(attempt({ model }, s), aLocalLambdaContext()));
    expect(answers.slice(0, 4).map((a) => a.outcome === 'recorded' && a.transitions.length)).toEqual([
      0, 0, 0, 0,
    ]);
    expect(answers[4]).toMatchObject({
      outcome: 'recorded',
      transitions: [{ status: 'open', reason: 'consecutive_failures' }],
    });
    const { state } = await storeOf().load({ provider: 'fal', model });
    expect(state).toMatchObject({ status: 'open', version: 1 });
  });

  it('given 4 failures, a success and 4 failures, then the success (off the breaker item) breaks the run and the breaker stays closed', async () => {
    const model = `r${Date.now().toString(36)}`;
    const events = [
      ...[0, 1, 2, 3].map((s) => attempt({ model }, s)),
      attempt({ model, outcome: 'succeeded', errorClass: null }, 4),
      ...[5, 6, 7, 8].map((s) => attempt({ model }, s)),
    ];
    for (const event of events) await handler(event, aLocalLambdaContext());
    const { state } = await storeOf().load({ provider: 'fal', model });
    expect(state).toMatchObject({ status: 'closed', consecutiveFailures: 4 });
  });

  it('given 1,000 successes in batches of 50 with 10 % redelivered, when 4 batches run at once, then the tally holds each distinct success once', async () => {
    const model = `b${Date.now().toString(36)}`;
    const distinct = Array.from({ length: 1000 }, (_, i) =>
      parsed(attempt({ model, outcome: 'succeeded', errorClass: null }, i % 30)),
    );
    const stream = [...distinct, ...distinct.filter((_, i) => i % 10 === 0)];
    const batches = Array.from({ length: Math.ceil(stream.length / 50) }, (_, b) =>
      stream.slice(b * 50, b * 50 + 50),
    );
    const results = (
      await pool(batches, 4, (batch) => recordHealthSignals(batch, { store: storeOf() }))
    ).flat();
    expect(results.filter((r) => r.outcome === 'recorded')).toHaveLength(1000);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(100);
    const [tally] = await storeOf().readTally(`fal#${model}`, [BUCKET]);
    expect(tally?.successes).toBe(1000);
  });
});
