/**
 * The Holds handler (HoldQueue's consumer) as SQS delivers to it: a message it cannot read or
 * could not handle is a batch item failure (redelivered, then dead-lettered), never dropped; the
 * others are handled. Its configuration and the SQS backlog adapter are checked beside it.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SqsHoldBacklog } from '../../src/aws/sqs-hold-backlog.ts';
import type { HeldJobDependencies } from '../../src/commands/hold-job.ts';
import { loadHoldsConfig } from '../../src/config/holds-config.ts';
import { ConfigurationError } from '../../src/config/load-config.ts';
import {
  createHoldsHandler,
  HoldBatchFailedError,
  type HoldMessageOutcome,
} from '../../src/handlers/holds.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { InMemoryHoldBacklog } from '../../src/memory/in-memory-hold-backlog.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';

quietHandlerTelemetry();

const aRecord = (messageId: string, body: string): SQSRecord =>
  ({ messageId, receiptHandle: messageId, body }) as unknown as SQSRecord;

function aHandler(overrides: Partial<HeldJobDependencies> = {}) {
  const handled: HoldMessageOutcome[] = [];
  const deps: HeldJobDependencies = {
    log: new InMemoryRoutingLog(),
    rules: fixedRules(aTableWithConcurrency({ fal: 1 })),
    ledger: new InMemorySlotLedger(),
    backlog: new InMemoryHoldBacklog(),
    now: () => new Date('2026-12-06T10:00:00.000Z'),
    ...overrides,
  };
  const handler = createHoldsHandler(deps, createTelemetry('holds', 'test'), {
    onHandled: (outcome) => handled.push(outcome),
  });
  return { handler, handled };
}

describe('the Holds handler', () => {
  it('given a batch with an unreadable message, a failing one and a good one, then only the first two are reported failed and the good one is handled', async () => {
    const ledger = new InMemorySlotLedger();
    const broken = new InMemorySlotLedger();
    broken.waiting = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const { handler, handled } = aHandler({ ledger: broken });
    const event: SQSEvent = {
      Records: [
        aRecord('m-1', 'not json'),
        aRecord('m-2', JSON.stringify({ kind: 'slot_freed', provider: 'fal' })),
      ],
    };
    expect(await handler(event, aLocalLambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }],
    });
    expect(handled).toEqual([]);

    const good = aHandler({ ledger });
    expect(
      await good.handler(
        { Records: [aRecord('m-3', JSON.stringify({ kind: 'recheck', jobId: 'job-never-held' }))] },
        aLocalLambdaContext(),
      ),
    ).toEqual({ batchItemFailures: [] });
    expect(good.handled).toEqual([
      { message: { kind: 'recheck', jobId: 'job-never-held' }, decided: [], result: { outcome: 'not_held' } },
    ]);
  });
});

describe('the Holds handler when a whole batch fails', () => {
  it('given an event that is not an SQS batch, when invoked, then it throws a typed, content-free HoldBatchFailedError (SQS delivers the batch again)', async () => {
    const { handler, handled } = aHandler();
    const failure = await handler({} as SQSEvent, aLocalLambdaContext()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HoldBatchFailedError);
    expect(failure).toMatchObject({ reason: 'hold_batch_failed', code: 'TypeError' });
    expect(handled).toEqual([]);
  });
});

describe('the Holds configuration', () => {
  const env = {
    STAGE: 'test',
    EVENT_LOG_TABLE: 'RoutingLog-test',
    PROVIDER_HEALTH_TABLE: 'ProviderHealth-test',
    HOLD_QUEUE_URL: 'http://localhost:1/000000000000/RoutingHoldQueue-test',
  };

  it('given the template environment, then it loads with the 30 s bounded wait by default', () => {
    expect(loadHoldsConfig(env)).toEqual({
      eventLogTable: 'RoutingLog-test',
      providerHealthTable: 'ProviderHealth-test',
      holdQueueUrl: env.HOLD_QUEUE_URL,
      holdRecheckSeconds: 30,
    });
  });

  it('given no queue or a wait SQS cannot delay by, then it is refused naming the variables', () => {
    const { HOLD_QUEUE_URL: _absent, ...withoutQueue } = env;
    expect(() => loadHoldsConfig(withoutQueue)).toThrow(ConfigurationError);
    expect(() => loadHoldsConfig({ ...env, HOLD_RECHECK_SECONDS: '901' })).toThrow(/HOLD_RECHECK_SECONDS/);
  });
});

describe('the hold backlog on SQS', () => {
  it('given a message and a wait, then it is one SendMessage of its JSON with the wait as whole DelaySeconds within 0–900', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({});
    const backlog = new SqsHoldBacklog(
      new SQSClient({}),
      'http://localhost:1/000000000000/RoutingHoldQueue-test',
    );
    await backlog.send({ kind: 'recheck', jobId: 'job-1' }, 29.2);
    await backlog.send({ kind: 'slot_freed', provider: 'fal' }, 5000);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueueUrl: 'http://localhost:1/000000000000/RoutingHoldQueue-test',
        MessageBody: '{"kind":"recheck","jobId":"job-1"}',
        DelaySeconds: 30,
      },
      {
        QueueUrl: 'http://localhost:1/000000000000/RoutingHoldQueue-test',
        MessageBody: '{"kind":"slot_freed","provider":"fal"}',
        DelaySeconds: 900,
      },
    ]);
    sqs.restore();
  });
});
