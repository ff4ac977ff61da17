/**
 * Our pipeline on the emulators, as the benchmarks drive it: the real router handler once per event
 * (several in flight, like concurrent Lambda instances), then the real stream poller delivering the
 * routing log's stream to the real projector handler, one batch at a time like one shard's event
 * source mapping. Each handler call is metered by the caller's AwsCallMeter and timed.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { type AwsCallMeter, installAwsCallMeter } from './aws-call-meter.ts';
import { benchLambdaContext, mapConcurrently } from './stats.ts';

/** What the router handler answers per event (the fields the benchmarks read). */
export interface RouterOutcome {
  readonly outcome: string;
  readonly decision: string;
  readonly jobId: string | null;
}

export interface Timed {
  readonly meter: AwsCallMeter;
  /** Handler time per invocation (router: one event; projector: one batch) is pushed here. */
  readonly durations: number[];
}

export interface OurPipeline {
  route(
    events: readonly unknown[],
    options: Timed & { readonly concurrency: number; readonly requestIdPrefix: string },
  ): Promise<RouterOutcome[]>;
  /** Delivers the stream until caught up and at least `minRecords` records were delivered. */
  project(options: Timed & { readonly minRecords: number; readonly timeoutMs: number }): Promise<{
    readonly batches: number;
    readonly delivered: number;
    readonly failed: number;
    /** CPU (user + system) spent inside the projector handler: the poller's own reading is not in it. */
    readonly handlerCpuUs: number;
  }>;
  destroy(): void;
}

export const timed = async <T>(durations: number[], fn: () => Promise<T>): Promise<T> => {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    durations.push(performance.now() - start);
  }
};

type Handler<R> = (event: unknown, context: unknown) => Promise<R>;

/** Wires the handlers as the Lambda entries do at init, from `stack`'s configuration. */
export function startOurPipeline(stack: LocalStack, batchSize: number): OurPipeline {
  installAwsCallMeter();
  const environment = handlerEnvironment(stack);
  const router = createRouterHandler(
    routerDependencies(loadRouterConfig(environment)),
    createTelemetry('router', stack.stage),
  ) as unknown as Handler<RouterOutcome>;
  const projector = createProjectorHandler(
    projectorPorts(loadProjectorConfig(environment)),
    createTelemetry('projector', stack.stage),
  ) as unknown as Handler<{ batchItemFailures: unknown[] }>;
  const poller = new DynamoDbStreamPoller({
    streamArn: stack.routingLogStreamArn,
    batchSize,
    eventNames: ['INSERT'],
  });
  return {
    route: (events, { concurrency, meter, durations, requestIdPrefix }) =>
      mapConcurrently(events, concurrency, (event, i) =>
        meter.measure(() =>
          timed(durations, () => router(event, benchLambdaContext('router', `${requestIdPrefix}-${i}`))),
        ),
      ),
    project: async ({ meter, durations, minRecords, timeoutMs }) => {
      let failed = 0;
      let handlerCpuUs = 0;
      const drained = await poller.drain(
        (event: DynamoDBStreamEvent, context) =>
          meter.measure(async () => {
            // One batch at a time and nothing else running: the CPU used meanwhile is the handler's.
            const cpu = process.cpuUsage();
            const response = await timed(durations, () => projector(event, context));
            const used = process.cpuUsage(cpu);
            handlerCpuUs += used.user + used.system;
            failed += response.batchItemFailures.length;
            return response as never;
          }),
        { minRecords, timeoutMs },
      );
      return { batches: drained.batches, delivered: drained.delivered, failed, handlerCpuUs };
    },
    destroy: () => poller.destroy(),
  };
}
