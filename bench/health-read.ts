/**
 * Benchmark: the router's added cost for reading provider health. The same jobs are routed by the
 * real router handler twice on the emulators — without a health table (health not consulted) and
 * with it (every breaker read in one BatchGetItem, cached per instance for HEALTH_CACHE_SECONDS) —
 * and the AWS calls per job and the handler time per job are compared. The handler runs as one
 * warm instance with several jobs in flight, like a busy Lambda instance reusing its cache.
 *
 * Runs in its own process (run.ts passes the emulators' endpoints); result → BENCH_OUT.
 */
import { loadRouterConfig } from '../src/config/router-config.ts';
import { createRouterHandler, routerDependencies } from '../src/handlers/router.ts';
import { handlerEnvironment } from '../src/local/provision.ts';
import { createTelemetry } from '../src/observability/telemetry.ts';
import { AwsCallMeter, installAwsCallMeter, type MeterSnapshot } from './support/aws-call-meter.ts';
import { provisionBenchStack } from './support/bench-stack.ts';
import {
  benchLambdaContext,
  LogCapture,
  mapConcurrently,
  median,
  percentile,
  progress,
  round,
  writeResult,
} from './support/stats.ts';
import { type BenchEvent, buildWorkload } from './support/workload.ts';

export interface HealthReadMode {
  readonly callsPerJob: number;
  readonly calls: MeterSnapshot['calls'];
  readonly medianMs: number;
  readonly p90Ms: number;
}

export interface HealthReadResult {
  readonly jobs: number;
  readonly concurrency: number;
  readonly cacheSeconds: number;
  readonly without: HealthReadMode;
  readonly with: HealthReadMode;
  /** Health-table calls per job: BatchGetItem reads (GetItem/TransactWriteItems only for probes). */
  readonly addedCallsPerJob: number;
  readonly addedMedianMs: number;
}

const JOBS = Number(process.env.BENCH_HEALTH_JOBS ?? 500);
const CONCURRENCY = 8;

async function routeAll(
  events: readonly BenchEvent[],
  env: Record<string, string>,
  run: string,
): Promise<HealthReadMode> {
  const handler = createRouterHandler(
    routerDependencies(loadRouterConfig(env)),
    createTelemetry('router', 'bench'),
  );
  const meter = new AwsCallMeter();
  const durations: number[] = [];
  await mapConcurrently(events, CONCURRENCY, (event, i) =>
    meter.measure(async () => {
      const start = performance.now();
      await handler(event as never, benchLambdaContext('router', `${run}-${i}`));
      durations.push(performance.now() - start);
    }),
  );
  const snapshot = meter.snapshot();
  return {
    callsPerJob: round(snapshot.totalCalls / events.length, 3),
    calls: snapshot.calls,
    medianMs: round(median(durations), 2),
    p90Ms: round(percentile(durations, 90), 2),
  };
}

async function main() {
  const stack = await provisionBenchStack(`bh${Date.now().toString(36)}`);
  const base = handlerEnvironment(stack);
  installAwsCallMeter();
  const logs = new LogCapture();
  try {
    const { PROVIDER_HEALTH_TABLE: healthTable, ...withoutHealth } = base;
    progress(`health read: ${JOBS} jobs to warm up, then ${JOBS} without and ${JOBS} with the health table`);
    await routeAll(buildWorkload(JOBS, { runId: 'hw' }).events as BenchEvent[], withoutHealth, 'hw');
    const without = await routeAll(
      buildWorkload(JOBS, { runId: 'h0' }).events as BenchEvent[],
      withoutHealth,
      'h0',
    );
    const withHealth = await routeAll(
      buildWorkload(JOBS, { runId: 'h1' }).events as BenchEvent[],
      { ...base, PROVIDER_HEALTH_TABLE: healthTable as string, HEALTH_CACHE_SECONDS: '5' },
      'h1',
    );
    const result: HealthReadResult = {
      jobs: JOBS,
      concurrency: CONCURRENCY,
      cacheSeconds: 5,
      without,
      with: withHealth,
      addedCallsPerJob: round((withHealth.calls['DynamoDB.BatchGetItem'] ?? 0) / JOBS, 4),
      addedMedianMs: round(withHealth.medianMs - without.medianMs, 2),
    };
    logs.restore();
    writeResult(result);
  } finally {
    logs.restore();
  }
}

await main();
