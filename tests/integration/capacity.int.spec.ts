/**
 * The slot ledger under many concurrent routers, on DynamoDB Local: each router is its own set of
 * adapters (its own client and caches, as separate Lambda instances are), all deciding at once.
 * The invariant: never more jobs in flight on a provider than its `concurrency` — counted from the
 * log's own decisions, not from the ledger — and the ledger agrees with the log.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbSlotLedger } from '../../src/aws/dynamodb-slot-ledger.ts';
import type { HeldJobDependencies } from '../../src/commands/hold-job.ts';
import { releaseCompletedSlot } from '../../src/commands/release-slot.ts';
import { type RoutingRecord, routeJob } from '../../src/commands/route-job.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { handleHoldMessage } from '../../src/handlers/holds.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import { InMemoryHoldBacklog } from '../../src/memory/in-memory-hold-backlog.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import type { HoldBacklog } from '../../src/ports/hold-backlog.ts';
import { readProviderSlots } from '../../src/provider-health/slot-claims.ts';
import type { RoutingTable } from '../../src/routing/routing-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { anAttemptEvent, aSignalFunction } from '../support/health-signals.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

quietHandlerTelemetry();

let stack: LocalStack;
const documents = createDocumentClient();

beforeAll(async () => {
  stack = await aProvisionedStack();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(() => documents.destroy());

const ROUTERS = 12;

function routers(table: RoutingTable) {
  const config = loadRouterConfig(handlerEnvironment(stack));
  return Array.from({ length: ROUTERS }, () =>
    routerDependencies(config, { table, client: createDocumentClient() }),
  );
}

async function routeAll(
  table: RoutingTable,
  jobs: number,
  provider = 'auto',
  backlog?: HoldBacklog,
): Promise<RoutingRecord[]> {
  const instances = routers(table);
  return Promise.all(
    Array.from({ length: jobs }, async (_, i) => {
      const event = aSubmittedEvent(aSubmissionDetail({ provider }));
      const deps = instances[i % ROUTERS] as (typeof instances)[number];
      // Without a backlog a job finding every candidate full is rejected; with one it is held.
      const capacity = deps.capacity
        ? { ledger: deps.capacity.ledger, ...(backlog ? { backlog } : {}) }
        : undefined;
      return (
        await routeJob({ type: 'RouteJob', data: { event } }, { ...deps, ...(capacity ? { capacity } : {}) })
      ).record;
    }),
  );
}

const routedTo = (records: readonly RoutingRecord[], provider: string) =>
  records.filter((r) => r.type === 'RoutingDecided' && r.data.provider === provider);

/** Held-job handlers with their own clients, as separate Holds function instances are. */
function holdsInstances(table: RoutingTable, backlog: HoldBacklog): HeldJobDependencies[] {
  return Array.from({ length: ROUTERS }, () => {
    const client = createDocumentClient();
    return {
      log: new DynamoDbRoutingLog(client, stack.tables.routingLog),
      rules: fixedRules(table),
      ledger: new DynamoDbSlotLedger(client, stack.tables.providerHealth),
      backlog,
      now: () => new Date(),
    };
  });
}

describe('the slot ledger under concurrent routers (DynamoDB Local)', () => {
  it(`given fal concurrency 3 and replicate 4, when 60 auto jobs hit ${ROUTERS} routers at once, then never more than 3 go to fal and 4 to Replicate, and the rest are refused capacity_exhausted (rules without a hold backlog)`, async () => {
    const table = aTableWithConcurrency({ fal: 3, replicate: 4 });
    const records = await routeAll(table, 60);
    expect(routedTo(records, 'fal')).toHaveLength(3);
    expect(routedTo(records, 'replicate')).toHaveLength(4);
    const refused = records.filter((r) => r.type === 'RoutingRejected');
    expect(refused).toHaveLength(53);
    expect(new Set(refused.map((r) => r.type === 'RoutingRejected' && r.data.reason))).toEqual(
      new Set(['capacity_exhausted']),
    );
    // Every record is in the log, and the ledger counts exactly the routed ones.
    const log = new DynamoDbRoutingLog(documents, stack.tables.routingLog);
    for (const record of records) expect(await log.readStream(record.metadata.stream)).toHaveLength(1);
    const ledger = new DynamoDbSlotLedger(documents, stack.tables.providerHealth);
    const slots = await readProviderSlots(
      ledger,
      [
        { provider: 'fal', concurrency: 3 },
        { provider: 'replicate', concurrency: 4 },
      ],
      Date.now(),
    );
    expect(slots.map((s) => s.inFlight)).toEqual([3, 4]);
    // Free them for the next test (the ledger is per stack, shared by these tests).
    const rules = fixedRules(table);
    for (const record of records) {
      if (record.type !== 'RoutingDecided') continue;
      expect(
        await releaseCompletedSlot(
          { provider: record.data.provider, dispatchId: `${record.metadata.jobId}:v1`, outcome: 'succeeded' },
          { ledger, rules },
        ),
      ).toBe('released');
    }
  });

  it(`given fal 3 and replicate 4 with holds, when 30 auto jobs hit ${ROUTERS} routers and completions free slots while ${ROUTERS} holds handlers decide the held jobs at once, then every job is dispatched exactly once and never more than 3 / 4 are in flight`, async () => {
    const table = aTableWithConcurrency({ fal: 3, replicate: 4 });
    const limits: Record<string, number> = { fal: 3, replicate: 4 };
    const backlog = new InMemoryHoldBacklog();
    const records = await routeAll(table, 30, 'auto', backlog);
    expect(records.filter((r) => r.type === 'RoutingDeferred')).toHaveLength(23);
    const log = new DynamoDbRoutingLog(documents, stack.tables.routingLog);
    const ledger = new DynamoDbSlotLedger(documents, stack.tables.providerHealth);
    const rules = fixedRules(table);
    const holds = holdsInstances(table, backlog);
    const streams = records.map((r) => r.metadata.stream);
    /** The log's own count: dispatched jobs (any version) whose completion was not reported yet. */
    const completed = new Set<string>();
    const inFlightFromLog = async () => {
      const dispatches = (await Promise.all(streams.map((stream) => log.readStream(stream)))).flatMap(
        (stream) =>
          jobStateOf(stream).dispatches.map((d) => ({
            dispatchId: `${d.decision.metadata.jobId}:v${d.version}`,
            provider: d.decision.data.provider,
          })),
      );
      return dispatches;
    };
    let maxSeen = { fal: 0, replicate: 0 } as Record<string, number>;
    for (let round = 0; round < 40; round++) {
      const dispatches = await inFlightFromLog();
      const running = dispatches.filter((d) => !completed.has(d.dispatchId));
      for (const provider of ['fal', 'replicate']) {
        const count = running.filter((d) => d.provider === provider).length;
        maxSeen = { ...maxSeen, [provider]: Math.max(maxSeen[provider] ?? 0, count) };
        expect(count).toBeLessThanOrEqual(limits[provider] as number);
      }
      if (dispatches.length === 30 && running.length === 0) break;
      // Complete what runs (each frees its slot and sends slot_freed), then let every holds
      // instance handle the backlog at once: the same lines drained concurrently.
      await Promise.all(
        running.map(async (d) => {
          completed.add(d.dispatchId);
          await releaseCompletedSlot(
            { provider: d.provider, dispatchId: d.dispatchId, outcome: 'succeeded' },
            { ledger, rules, backlog },
          );
        }),
      );
      const messages = backlog.take().filter((m) => m.kind === 'slot_freed');
      await Promise.all(
        [...messages, ...messages].map((message, i) =>
          handleHoldMessage(message, holds[i % ROUTERS] as HeldJobDependencies),
        ),
      );
    }
    const final = await inFlightFromLog();
    // Every job dispatched exactly once (a held job at version 2), none twice, none lost.
    expect(final).toHaveLength(30);
    expect(new Set(final.map((d) => d.dispatchId.split(':v')[0])).size).toBe(30);
    expect(maxSeen).toEqual({ fal: 3, replicate: 4 });
    const slots = await readProviderSlots(
      ledger,
      [
        { provider: 'fal', concurrency: 3 },
        { provider: 'replicate', concurrency: 4 },
      ],
      Date.now(),
    );
    expect(slots.map((s) => s.inFlight)).toEqual([0, 0]);
    expect(await ledger.waiting({ provider: 'fal', shard: 0 })).toEqual([]);
    expect(await ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
  }, 120_000);

  it('given a sharded ledger (fal concurrency 40: 3 shards), when 150 explicit fal jobs race while completions free slots, then in flight never exceeds 40', async () => {
    const table = aTableWithConcurrency({ fal: 40 });
    const ledger = new DynamoDbSlotLedger(documents, stack.tables.providerHealth);
    const rules = fixedRules(table);
    // Three waves; between them, complete half of what is in flight: slots freed by one router are
    // taken by the others, and the count read back from the ledger is the log's count.
    let inFlight: string[] = [];
    for (const wave of [60, 50, 40]) {
      const records = await routeAll(table, wave, 'fal');
      const routed = routedTo(records, 'fal').map((r) => `${r.metadata.jobId}:v1`);
      expect(routedTo(records, 'replicate')).toHaveLength(0);
      inFlight = [...inFlight, ...routed];
      expect(inFlight.length).toBeLessThanOrEqual(40);
      const [read] = await readProviderSlots(ledger, [{ provider: 'fal', concurrency: 40 }], Date.now());
      expect(read?.inFlight).toBe(inFlight.length);
      const done = inFlight.slice(0, Math.ceil(inFlight.length / 2));
      await Promise.all(
        done.map((dispatchId) =>
          releaseCompletedSlot({ provider: 'fal', dispatchId, outcome: 'succeeded' }, { ledger, rules }),
        ),
      );
      inFlight = inFlight.slice(done.length);
    }
    const [after] = await readProviderSlots(ledger, [{ provider: 'fal', concurrency: 40 }], Date.now());
    expect(after?.inFlight).toBe(inFlight.length);
    for (const dispatchId of inFlight) {
      await releaseCompletedSlot(
        { provider: 'fal', dispatchId, outcome: 'failed_terminal' },
        { ledger, rules },
      );
    }
  });
});

describe('capacity through the real handlers (DynamoDB Local)', () => {
  it('given fal concurrency 2, when three auto jobs arrive, then the third goes to Replicate; a fal completion (a duplicate report too) frees one slot and the next auto job goes to fal', async () => {
    const table = aTableWithConcurrency({ replicate: 50, fal: 2 });
    const route = createRouterHandler(
      routerDependencies(loadRouterConfig(handlerEnvironment(stack)), { table }),
      createTelemetry('router', stack.stage),
    );
    const ledger = new DynamoDbSlotLedger(documents, stack.tables.providerHealth);
    const signal = aSignalFunction(
      {
        store: new DynamoDbProviderHealthStore(documents, {
          health: stack.tables.providerHealth,
          log: stack.tables.routingLog,
        }),
        slots: { ledger, rules: fixedRules(table) },
      },
      createTelemetry('health-signals', stack.stage),
    );
    const submit = async () =>
      route(aSubmittedEvent(aSubmissionDetail({ provider: 'auto' })), aLocalLambdaContext());
    const inFlightOnFal = async () =>
      (await readProviderSlots(ledger, [{ provider: 'fal', concurrency: 2 }], Date.now()))[0]?.inFlight;
    expect(await inFlightOnFal()).toBe(0);

    const first = await submit();
    const second = await submit();
    const third = await submit();
    expect([first.provider, second.provider, third.provider]).toEqual(['fal', 'fal', 'replicate']);
    expect(await inFlightOnFal()).toBe(2);

    const started = {
      ...anAttemptEvent({ jobId: first.jobId }),
      'detail-type': 'provider.job.started',
      detail: {
        jobId: first.jobId,
        provider: 'fal',
        model: 'wan-i2v',
        dispatchId: `${first.jobId}:v1`,
        queueWaitMs: 41_250,
        ts: '2026-11-25T14:00:01.000Z',
      },
    };
    // Measured, changing no slot: fal is still full.
    expect(await signal(started, aLocalLambdaContext())).toEqual({
      outcome: 'observed',
      provider: 'fal',
      queueWaitMs: 41_250,
    });
    expect(
      await signal({ ...started, detail: { ...started.detail, queueWaitMs: -1 } }, aLocalLambdaContext()),
    ).toMatchObject({ outcome: 'refused' });
    expect(await inFlightOnFal()).toBe(2);

    const completion = anAttemptEvent({
      jobId: first.jobId,
      outcome: 'succeeded',
      errorClass: null,
      runMs: 61_000,
      costUsd: 0.4,
    });
    expect(await signal(completion, aLocalLambdaContext())).toMatchObject({ slotReleased: 'fal' });
    expect(await signal(completion, aLocalLambdaContext())).not.toHaveProperty('slotReleased');
    expect(await inFlightOnFal()).toBe(1);
    expect((await submit()).provider).toBe('fal');
    expect((await submit()).provider).toBe('replicate');
  });
});
