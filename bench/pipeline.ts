/**
 * Benchmarks 1 and 5: AWS calls and capacity per job, and local end-to-end throughput, for the
 * Routing Manager and for the naive baseline (bench/baseline/), on the same emulators and workload.
 *
 * Ours: the real router handler once per event (several in flight, like concurrent Lambda
 * instances), then the real stream poller delivering the log's stream to the real projector handler
 * at batch size 100 (template.yaml's BatchSize), sequentially like one shard's mapping.
 * Baseline: the naive router once per event, same concurrency.
 *
 * Runs in its own process (run.ts starts it with the emulators' endpoints in its environment), one
 * process per repetition: fresh stacks each time, because moto's SendMessage slows down as a queue
 * fills (nothing consumes the provider queues here) and PurgeQueue is limited to once a minute; a
 * fresh process also makes every repetition include the handlers' cold start, as new Lambda
 * instances would. Handlers' log output is captured and counted, not printed. Result → BENCH_OUT.
 */

import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../src/aws/clients.ts';
import { RoutingManagerError } from '../src/errors.ts';
import type { LocalStack } from '../src/local/provision.ts';
import { createIdempotencyTable, createNaiveRouter } from './baseline/naive-router.ts';
import { AwsCallMeter, type MeterSnapshot } from './support/aws-call-meter.ts';
import { provisionBenchStack } from './support/bench-stack.ts';
import { startOurPipeline, timed } from './support/our-pipeline.ts';
import { LogCapture, mapConcurrently, median, percentile, progress, writeResult } from './support/stats.ts';
import { type BenchEvent, buildWorkload } from './support/workload.ts';

export const PROJECTOR_BATCH_SIZE = 100;

export interface PhaseResult {
  readonly meter: MeterSnapshot;
  readonly wallMs: number;
  /** Handler time per invocation (router: one event; projector: one batch). */
  readonly invocationMs: { readonly median: number; readonly p90: number };
  readonly invocations: number;
  readonly logBytes: number;
}

export interface PipelineRun {
  readonly events: number;
  readonly unique: number;
  readonly duplicates: number;
  readonly router: PhaseResult;
  readonly projector: PhaseResult & { readonly records: number; readonly failed: number };
  readonly baseline: PhaseResult;
  readonly routerOutcomes: Record<string, number>;
  readonly baselineOutcomes: Record<string, number>;
  /** What actually landed for our pipeline, read back from the emulators after the projector. */
  readonly landed?: Landed;
}

/**
 * Lost = accepted jobs whose effects did not all land: routed decisions without their message on
 * a provider queue, or decisions without their Jobs status.
 */
export interface Landed {
  /** Unique jobs of the run carrying a large extra field. */
  readonly largeJobs: number;
  readonly routed: number;
  readonly decided: number;
  readonly messages: number;
  readonly jobsWithStatus: number;
  readonly lost: number;
  /** Provider messages beyond one per routed decision (a job dispatched twice). */
  readonly duplicated: number;
}

/** Thrown when the emulators show an accepted job whose effects did not all land. */
export class JobsLostError extends RoutingManagerError {
  constructor(landed: Landed) {
    super(
      'jobs_lost',
      `${landed.lost} accepted job(s) lost: ${landed.messages}/${landed.routed} messages, ` +
        `${landed.jobsWithStatus}/${landed.decided} Jobs statuses`,
    );
    this.name = 'JobsLostError';
  }
}

export interface PipelineResult {
  readonly jobs: number;
  /** Share of the unique jobs carrying a 100–180 KB extra field (0 for the plain mix). */
  readonly largeShare?: number;
  readonly repetitions: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly runs: readonly PipelineRun[];
}

const phase = (meter: AwsCallMeter, wallMs: number, durations: number[], logBytes: number): PhaseResult => ({
  meter: meter.snapshot(),
  wallMs,
  invocationMs: { median: median(durations), p90: percentile(durations, 90) },
  invocations: durations.length,
  logBytes,
});

const tally = (values: readonly string[]) =>
  values.reduce<Record<string, number>>((acc, v) => {
    acc[v] = (acc[v] ?? 0) + 1;
    return acc;
  }, {});

async function landed(
  stack: LocalStack,
  largeJobs: number,
  routed: number,
  decided: number,
): Promise<Landed> {
  const sqs = new SQSClient({});
  const documents = createDocumentClient();
  try {
    let messages = 0;
    for (const queueUrl of [stack.queues.fal, stack.queues.replicate]) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      messages += Number(Attributes?.ApproximateNumberOfMessages ?? 0);
    }
    let jobsWithStatus = 0;
    for await (const page of paginateScan(
      { client: documents },
      {
        TableName: stack.tables.jobs,
        Select: 'COUNT',
        FilterExpression: 'attribute_exists(#s)',
        ExpressionAttributeNames: { '#s': 'status' },
      },
    )) {
      jobsWithStatus += page.Count ?? 0;
    }
    return {
      largeJobs,
      routed,
      decided,
      messages,
      jobsWithStatus,
      lost: Math.max(0, routed - messages) + Math.max(0, decided - jobsWithStatus),
      duplicated: Math.max(0, messages - routed),
    };
  } finally {
    sqs.destroy();
    documents.destroy();
  }
}

export async function runPipelineBenchmark(options: {
  jobs: number;
  repetitions: number;
  concurrency: number;
  largeShare?: number;
  /** Stream batch size; smaller for large payloads, so a batch stays well inside the projector's timeout. */
  batchSize?: number;
}): Promise<PipelineResult> {
  const batchSize = options.batchSize ?? PROJECTOR_BATCH_SIZE;
  const suffix = randomBytes(3).toString('hex');
  const ours: LocalStack = await provisionBenchStack(`bo${suffix}`);
  const theirs: LocalStack = await provisionBenchStack(`bb${suffix}`);
  const idempotencyTable = `Idempotency-bb${suffix}`;
  await createIdempotencyTable(idempotencyTable);
  const logs = new LogCapture();
  const pipeline = startOurPipeline(ours, batchSize);
  const naiveRouter = createNaiveRouter({
    idempotencyTable,
    creditsTable: theirs.tables.credits,
    jobsTable: theirs.tables.jobs,
    queueUrls: { fal: theirs.queues.fal, replicate: theirs.queues.replicate },
    eventBusName: theirs.eventBusName,
  });

  const runs: PipelineRun[] = [];
  let expectedRouted = 0;
  let expectedDecided = 0;
  try {
    for (let rep = 0; rep < options.repetitions; rep++) {
      const workload = buildWorkload(options.jobs, {
        runId: `r${rep}${suffix}`,
        ...(options.largeShare ? { largeShare: options.largeShare } : {}),
      });
      const events = workload.events as BenchEvent[];
      logs.take();

      // Router: one invocation per event.
      const routerMeter = new AwsCallMeter();
      const routerDurations: number[] = [];
      let start = performance.now();
      const routed = await pipeline.route(events, {
        concurrency: options.concurrency,
        meter: routerMeter,
        durations: routerDurations,
        requestIdPrefix: `router-${rep}`,
      });
      const routerWall = performance.now() - start;
      const routerLogs = logs.take().bytes;

      // Projector: the stream, batches of `batchSize` (100 by default), one invocation at a time.
      const projectorMeter = new AwsCallMeter();
      const projectorDurations: number[] = [];
      start = performance.now();
      const drained = await pipeline.project({
        meter: projectorMeter,
        durations: projectorDurations,
        minRecords: workload.unique,
        timeoutMs: 120_000,
      });
      const projectorWall = performance.now() - start;
      const projectorLogs = logs.take().bytes;
      // Repetitions in one process share the stack: what landed is compared with every decision so far.
      const recorded = routed.filter((r) => r.outcome === 'recorded');
      expectedRouted += recorded.filter((r) => r.decision === 'routed').length;
      expectedDecided += recorded.filter((r) => r.jobId !== null).length;
      // Read back for the large-payload mix only: the plain run's figures stay as they were measured.
      const landedNow = options.largeShare
        ? await landed(ours, workload.large, expectedRouted, expectedDecided)
        : undefined;
      // Loud: a lost job is a correctness failure, not a figure to report.
      if (landedNow && landedNow.lost > 0) throw new JobsLostError(landedNow);

      // Baseline: the naive router, one invocation per event, same concurrency.
      const baselineMeter = new AwsCallMeter();
      const baselineDurations: number[] = [];
      start = performance.now();
      const naive = await mapConcurrently(events, options.concurrency, (event) =>
        baselineMeter.measure(() => timed(baselineDurations, () => naiveRouter(event))),
      );
      const baselineWall = performance.now() - start;
      const baselineLogs = logs.take().bytes;

      const run: PipelineRun = {
        events: events.length,
        unique: workload.unique,
        duplicates: workload.duplicates,
        router: phase(routerMeter, routerWall, routerDurations, routerLogs),
        projector: {
          ...phase(projectorMeter, projectorWall, projectorDurations, projectorLogs),
          records: drained.delivered,
          failed: drained.failed,
        },
        baseline: phase(baselineMeter, baselineWall, baselineDurations, baselineLogs),
        routerOutcomes: tally(routed.map((r) => r.outcome)),
        baselineOutcomes: tally(naive.map((r) => r.outcome)),
        ...(landedNow ? { landed: landedNow } : {}),
      };
      runs.push(run);
      progress(
        `pipeline run: router ${Math.round(routerWall)} ms, ` +
          `projector ${Math.round(projectorWall)} ms (${drained.batches} batches), baseline ${Math.round(baselineWall)} ms` +
          (landedNow
            ? `, ${landedNow.largeJobs} large jobs, lost ${landedNow.lost}, duplicated ${landedNow.duplicated}`
            : ''),
      );
    }
  } finally {
    pipeline.destroy();
    logs.restore();
  }
  return {
    jobs: options.jobs,
    ...(options.largeShare ? { largeShare: options.largeShare } : {}),
    repetitions: options.repetitions,
    concurrency: options.concurrency,
    batchSize,
    runs,
  };
}

if (import.meta.main) {
  const result = await runPipelineBenchmark({
    jobs: Number(process.env.BENCH_JOBS ?? 1000),
    repetitions: Number(process.env.BENCH_REPS ?? 3),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
    largeShare: Number(process.env.BENCH_LARGE_SHARE ?? 0),
    batchSize: Number(process.env.BENCH_BATCH_SIZE ?? PROJECTOR_BATCH_SIZE),
  });
  writeResult(result);
  // Keep-alive sockets of the handlers' SDK clients would hold the process open.
  process.exit(0);
}
