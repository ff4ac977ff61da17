/**
 * HealthSignalsQueue on the emulators as the deployed stack drains it: the real HealthSignals handler
 * behind the local SQS event source (src/local/sqs-event-source.ts), with the windows' clock in the
 * test's hand, and what its breakers, closed windows and queue hold afterwards.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import { loadHealthSignalsConfig } from '../../src/config/health-signals-config.ts';
import {
  createHealthSignalsHandler,
  type HealthSignalsDependencies,
  healthSignalsDependencies,
  type SignalItemResult,
} from '../../src/handlers/health-signals.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { SqsEventSource } from '../../src/local/sqs-event-source.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import type { WindowPair } from '../../src/ports/signal-windows.ts';
import { WINDOW_MS } from '../../src/provider-health/signal-windows.ts';

/** What the windows' clock says: the workload's start while ingesting, later to close its window. */
export interface Clock {
  now: number;
}

/** The stack's HealthSignals dependencies, its windows' clock the test's. */
export function depsOf(stack: LocalStack, clock: Clock): HealthSignalsDependencies {
  return {
    ...healthSignalsDependencies(loadHealthSignalsConfig(handlerEnvironment(stack))),
    windows: {
      windows: new DynamoDbSignalWindows(createDocumentClient(), stack.tables.providerHealth, {
        windowMs: WINDOW_MS,
      }),
      now: () => clock.now,
    },
  };
}

/** The stack's function behind its queue, polled as the event source does; what it saw is kept. */
export function aQueueConsumer(stack: LocalStack, clock: Clock) {
  const items: SignalItemResult[] = [];
  const batches: string[][] = [];
  const handler = createHealthSignalsHandler(
    depsOf(stack, clock),
    createTelemetry('health-signals', stack.stage),
    {
      onItem: (item) => items.push(item),
    },
  );
  const source = new SqsEventSource(
    stack.queues.healthSignals,
    async (event: SQSEvent) => {
      batches.push(event.Records.map((record) => record.body));
      return handler(event, aLocalLambdaContext());
    },
    { name: 'health-signals', batchSize: stack.batchSizes.healthSignals },
  );
  return { items, batches, source };
}

export async function breakerOf(stack: LocalStack, pair: WindowPair) {
  const store = new DynamoDbProviderHealthStore(createDocumentClient(), {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });
  const { state } = await store.load(pair);
  return {
    status: state.status,
    reason: state.reason,
    version: state.version,
    judged: state.windowsJudgedThrough,
  };
}

export const closedWindow = (stack: LocalStack, pair: WindowPair, start: number) =>
  new DynamoDbSignalWindows(createDocumentClient(), stack.tables.providerHealth, {
    windowMs: WINDOW_MS,
  }).readClosed(pair, start);

/** Messages in the queue, visible or in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}
