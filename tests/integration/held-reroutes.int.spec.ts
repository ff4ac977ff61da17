/**
 * A held re-routing on the emulators, through the real handlers (router, HealthSignals, Holds) and
 * adapters: DynamoDB Local for the log and the slot ledger, the hold backlog on moto's SQS. An auto
 * job on fal fails at the provider while Replicate (its only candidate left) is full: it is held —
 * never sent back to fal, never over Replicate's concurrency — and re-routed to Replicate when a
 * Replicate completion frees a slot.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbSlotLedger } from '../../src/aws/dynamodb-slot-ledger.ts';
import { SqsHoldBacklog } from '../../src/aws/sqs-hold-backlog.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { createHoldsHandler } from '../../src/handlers/holds.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { readProviderSlots } from '../../src/provider-health/slot-claims.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { anAttemptEvent, aSignalFunction } from '../support/health-signals.ts';
import { readJob } from '../support/local-aws.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { aStreamEvent, aStreamRecord } from '../support/stream-events.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

quietHandlerTelemetry();

let stack: LocalStack;
const documents = createDocumentClient();
const sqs = new SQSClient({});

beforeAll(async () => {
  stack = await aProvisionedStack();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(() => {
  documents.destroy();
  sqs.destroy();
});

describe('a held re-routing (DynamoDB Local, SQS on moto)', () => {
  it('given fal 1 and Replicate 1 both taken, when fal fails an auto job, then it is held for Replicate and re-routed there once a Replicate completion frees its slot', async () => {
    const table = aTableWithConcurrency({ fal: 1, replicate: 1 });
    const rules = fixedRules(table);
    const log = new DynamoDbRoutingLog(documents, stack.tables.routingLog);
    const ledger = new DynamoDbSlotLedger(documents, stack.tables.providerHealth);
    const backlog = new SqsHoldBacklog(sqs, stack.queues.hold);
    const route = createRouterHandler(
      routerDependencies(loadRouterConfig(handlerEnvironment(stack)), { table }),
      createTelemetry('router', stack.stage),
    );
    const signal = aSignalFunction(
      {
        store: new DynamoDbProviderHealthStore(documents, {
          health: stack.tables.providerHealth,
          log: stack.tables.routingLog,
        }),
        slots: { ledger, rules, backlog },
        revise: { log, rules, capacity: { ledger, backlog, recheckSec: 1 } },
      },
      createTelemetry('health-signals', stack.stage),
    );
    const projector = createProjectorHandler(
      projectorPorts(loadProjectorConfig(handlerEnvironment(stack))),
      createTelemetry('projector', stack.stage),
    );
    /** The job's records as the routing log's stream delivers them, through the real projector. */
    const project = async (jobId: string) => {
      const records = await log.readStream(`job#${jobId}`);
      await projector(aStreamEvent(records.map((r) => aStreamRecord(r))), aLocalLambdaContext());
    };
    const holds = createHoldsHandler(
      { log, rules, ledger, backlog, now: () => new Date(), recheckSec: 1 },
      createTelemetry('holds', stack.stage),
    );
    /** One receive of the hold backlog handed to the Holds function, as its event source would. */
    const deliverHoldBacklog = async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.hold,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      if (Messages.length === 0) return;
      const event = {
        Records: Messages.map((m) => ({
          messageId: m.MessageId,
          body: m.Body,
          receiptHandle: m.ReceiptHandle,
        })),
      } as unknown as SQSEvent;
      expect(await holds(event, aLocalLambdaContext())).toEqual({ batchItemFailures: [] });
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: stack.queues.hold,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    };
    const report = (jobId: string, detail: Record<string, unknown>) =>
      signal(
        { ...anAttemptEvent({ jobId, ...detail }), time: new Date().toISOString() },
        aLocalLambdaContext(),
      );
    const inFlight = async () =>
      (
        await readProviderSlots(
          ledger,
          [
            { provider: 'fal', concurrency: 1 },
            { provider: 'replicate', concurrency: 1 },
          ],
          Date.now(),
        )
      ).map((slots) => slots.inFlight);

    const job = await route(aSubmittedEvent(aSubmissionDetail({ provider: 'auto' })), aLocalLambdaContext());
    const onReplicate = await route(
      aSubmittedEvent(aSubmissionDetail({ provider: 'replicate' })),
      aLocalLambdaContext(),
    );
    expect([job.provider, onReplicate.provider]).toEqual(['fal', 'replicate']);
    const jobId = job.jobId as string;

    const failure = {
      provider: 'fal',
      model: 'wan-i2v',
      dispatchId: `${jobId}:v1`,
      errorClass: 'server_error',
    };
    const failed = await report(jobId, failure);
    expect(failed).toMatchObject({
      slotReleased: 'fal',
      revision: {
        outcome: 'held',
        record: { data: { waitingFor: ['replicate'] }, metadata: { version: 2 } },
      },
    });
    // The Jobs item shows the hold, not the dispatch that failed: HELD at the deferral's version.
    await project(jobId);
    const held = await readJob(stack, jobId);
    expect(held).toMatchObject({ status: 'HELD', routingVersion: 2 });
    expect(held).not.toHaveProperty('provider');
    expect(held).not.toHaveProperty('queue');
    // A second report of the same failure records nothing new.
    expect(await report(jobId, failure)).toMatchObject({ revision: { outcome: 'held', duplicate: true } });
    expect(await ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([
      expect.objectContaining({ jobId }),
    ]);
    expect(await inFlight()).toEqual([0, 1]);

    // The backlog so far (fal's slot_freed, the job's rechecks) decides nothing: Replicate is full.
    await deliverHoldBacklog();
    expect(jobStateOf(await log.readStream(`job#${jobId}`))).toMatchObject({ held: true, version: 2 });

    const completed = await report(onReplicate.jobId as string, {
      provider: 'replicate',
      model: 'wan-2.1-i2v',
      dispatchId: `${onReplicate.jobId}:v1`,
      outcome: 'succeeded',
      errorClass: null,
    });
    expect(completed).toMatchObject({ slotReleased: 'replicate' });
    const deadline = Date.now() + 15_000;
    while (jobStateOf(await log.readStream(`job#${jobId}`)).held && Date.now() < deadline) {
      await deliverHoldBacklog();
    }
    const records = await log.readStream(`job#${jobId}`);
    expect(records.map((r) => r.type)).toEqual(['RoutingDecided', 'RoutingDeferred', 'RoutingRevised']);
    expect(records[2]).toMatchObject({
      data: {
        revision: 1,
        failedProvider: 'fal',
        decision: { type: 'RoutingDecided', data: { provider: 'replicate' } },
        afterHold: { deferredVersion: 2, ended: 'decided_again' },
      },
      metadata: { version: 3 },
    });
    // The revision that ends the hold moves the item on.
    await project(jobId);
    expect(await readJob(stack, jobId)).toMatchObject({
      status: 'ROUTED',
      provider: 'replicate',
      routingVersion: 3,
    });
    // Never over Replicate's concurrency: the one slot is the revision's dispatch.
    expect(await inFlight()).toEqual([0, 1]);
    expect(await ledger.waiting({ provider: 'replicate', shard: 0 })).toEqual([]);
  });
});
