/**
 * The scale run (docs/SCALE.md): 20,000 jobs through our pipeline on the emulators — the real router
 * handler, the routing log on DynamoDB Local, its stream, the real projector, SQS and EventBridge on
 * moto — with AWS calls, capacity and cost per job measured for each checkpoint segment (jobs 1–1,000,
 * 1,001–2,000, 2,001–5,000, 5,001–10,000, 10,001–20,000), and what landed checked: every decided
 * job's Jobs status, and one provider message per routed job.
 *
 * Per segment, not cumulative: a drift with N would hide in a running average. The emulators' speed
 * says nothing about AWS; the per-job counts do, and they must not grow with N.
 *
 * Bounded memory: the events are built, routed, projected and checked 1,000 at a time (the same mix
 * as the pipeline benchmark, 5 % redeliveries, a fresh seed per block); what a block leaves behind
 * is its counts. The provider queues are purged once a minute by the check, so moto never holds more
 * than a minute of messages.
 * Runs in its own process (run.ts starts it with the emulators' endpoints); result → BENCH_OUT.
 */

import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../src/aws/clients.ts';
import { RoutingManagerError } from '../src/errors.ts';
import type { LocalStack } from '../src/local/provision.ts';
import { oursPerMillion } from './cost.ts';
import { PROJECTOR_BATCH_SIZE } from './pipeline.ts';
import { envelopeBasis, renderEnvelope } from './scale-envelope.ts';
import { type SidePerJob, side, sum } from './summary.ts';
import { AwsCallMeter } from './support/aws-call-meter.ts';
import { provisionBenchStack } from './support/bench-stack.ts';
import { writeBetweenMarkers } from './support/doc-markers.ts';
import { type RouterOutcome, startOurPipeline } from './support/our-pipeline.ts';
import { LogCapture, median, progress, round, writeResult } from './support/stats.ts';
import { buildWorkload } from './support/workload.ts';

export const SCALE_JOBS = 20_000;
export const SCALE_CHECKPOINTS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 20_000];
/** Events built, routed, projected and checked at a time. */
export const SCALE_BLOCK = 1_000;
const SEED = 20261125;
/** SQS allows one PurgeQueue per queue per 60 s (moto enforces it too). */
const PURGE_INTERVAL_MS = 61_000;
const SCALE_DOC = join(resolve(import.meta.dirname, '..'), 'docs/SCALE.md');
export const SCALE_MARKERS = { begin: '<!-- scale-run:begin -->', end: '<!-- scale-run:end -->' } as const;

export interface ScaleCheckpoint {
  /** Events routed so far. */
  readonly jobs: number;
  /** Events of this segment (since the previous checkpoint); the per-job figures are over these. */
  readonly events: number;
  readonly router: SidePerJob;
  readonly projector: SidePerJob;
  readonly total: SidePerJob;
  readonly usdPerMillion: number;
  /** RoutingLog WRU (table + audit index) per record appended. */
  readonly logWruPerRecord: number;
  readonly recordsPerBatch: number;
  /** Log records appended per inbound event (redeliveries append nothing). */
  readonly recordsPerJob: number;
  /** Since the start of the run: accepted jobs without their provider message or Jobs status. */
  readonly lost: number;
  /** Since the start of the run: provider messages beyond one per routed job. */
  readonly dispatchedTwice: number;
  readonly failedRecords: number;
  readonly seconds: number;
  /** Of `seconds`: routing, projecting, and reading back what landed. */
  readonly phaseSeconds: { readonly route: number; readonly project: number; readonly check: number };
  /**
   * CPU this process spent (user + system) routing, per event, and inside the projector handler,
   * per batch: the handlers' own work and their SDK clients', not the emulators' (other processes).
   */
  readonly cpuMs: { readonly routerPerEvent: number; readonly projectorPerBatch: number };
  /** This process's resident memory and V8 heap in use at the checkpoint (nothing of past blocks is kept). */
  readonly rssMb: number;
  readonly heapMb: number;
}

export interface ScaleResult {
  readonly jobs: number;
  readonly block: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly checkpoints: readonly ScaleCheckpoint[];
  readonly seconds: number;
  readonly date: string;
}

/** Thrown when a job is lost or dispatched twice: a correctness failure, not a figure to report. */
export class ScaleRunFailedError extends RoutingManagerError {
  constructor(checkpoint: ScaleCheckpoint) {
    super(
      'scale_run_failed',
      `at ${checkpoint.jobs} jobs: ${checkpoint.lost} lost, ${checkpoint.dispatchedTwice} dispatched twice`,
    );
    this.name = 'ScaleRunFailedError';
  }
}

/** One segment's meters, timings and log bytes, router and projector apart. */
class Segment {
  readonly router = { meter: new AwsCallMeter(), durations: [] as number[], logBytes: 0 };
  readonly projector = { meter: new AwsCallMeter(), durations: [] as number[], logBytes: 0 };
  readonly started = performance.now();
  readonly phaseMs = { route: 0, project: 0, check: 0 };
  readonly cpuUs = { route: 0, project: 0, check: 0 };
  projectorHandlerCpuUs = 0;
  events = 0;
  records = 0;
  batches = 0;
  failed = 0;
}

/** Messages on the provider queues (moto's count is exact). */
async function queued(sqs: SQSClient, stack: LocalStack): Promise<number> {
  let messages = 0;
  for (const queueUrl of [stack.queues.fal, stack.queues.replicate]) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    messages += Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return messages;
}

/** Job ids of `jobIds` whose Jobs item has a status. */
async function withStatus(
  documents: DynamoDBDocumentClient,
  table: string,
  jobIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < jobIds.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = jobIds.slice(i, i + 100).map((jobId) => ({ jobId }));
    while (keys && keys.length > 0) {
      const out: BatchGetCommandOutput = await documents.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: keys,
              ProjectionExpression: 'jobId, #s',
              ExpressionAttributeNames: { '#s': 'status' },
            },
          },
        }),
      );
      for (const item of out.Responses?.[table] ?? []) if (item.status) found.add(item.jobId as string);
      keys = out.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return found;
}

/**
 * What landed, read back from the emulators (never metered). Per job: every decided job of the
 * block has its Jobs status. Per count, as the pipeline benchmark does: the provider queues hold
 * exactly one message per job routed since they were last emptied. Nothing consumes them here, so
 * they are purged once SQS allows it (once a minute): moto slows down as a queue fills, and the
 * check stays a count of at most a minute's messages.
 */
class Landing {
  /** Jobs without their Jobs status, and the message counts of queues already purged. */
  #lost = 0;
  #dispatchedTwice = 0;
  #routedSincePurge = 0;
  #queued = 0;
  #purgedAt = performance.now();
  readonly #stack: LocalStack;
  readonly #clients: { sqs: SQSClient; documents: DynamoDBDocumentClient };

  constructor(stack: LocalStack, clients: { sqs: SQSClient; documents: DynamoDBDocumentClient }) {
    this.#stack = stack;
    this.#clients = clients;
  }

  get lost(): number {
    return this.#lost + Math.max(0, this.#routedSincePurge - this.#queued);
  }

  get dispatchedTwice(): number {
    return this.#dispatchedTwice + Math.max(0, this.#queued - this.#routedSincePurge);
  }

  async check(outcomes: readonly RouterOutcome[]): Promise<void> {
    const recorded = outcomes.filter((o) => o.outcome === 'recorded' && o.jobId !== null);
    const decided = recorded.map((o) => o.jobId as string);
    this.#routedSincePurge += recorded.filter((o) => o.decision === 'routed').length;
    const statused = await withStatus(this.#clients.documents, this.#stack.tables.jobs, decided);
    this.#lost += decided.length - statused.size;
    this.#queued = await queued(this.#clients.sqs, this.#stack);
    if (performance.now() - this.#purgedAt < PURGE_INTERVAL_MS) return;
    this.#dispatchedTwice = this.dispatchedTwice;
    this.#lost = this.lost;
    for (const queueUrl of [this.#stack.queues.fal, this.#stack.queues.replicate]) {
      await this.#clients.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    }
    this.#routedSincePurge = 0;
    this.#queued = 0;
    this.#purgedAt = performance.now();
  }
}

function checkpointOf(segment: Segment, jobs: number, landed: Landing): ScaleCheckpoint {
  const perJob = (h: Segment['router']) =>
    side(h.meter.snapshot(), segment.events, h.logBytes, h.durations.length, median(h.durations));
  const router = perJob(segment.router);
  const projector = perJob(segment.projector);
  const total = sum(router, projector);
  const logWru = segment.router.meter.snapshot().tables.RoutingLog?.wcu ?? 0;
  return {
    jobs,
    events: segment.events,
    router,
    projector,
    total,
    usdPerMillion: round(oursPerMillion({ router, projector, total }), 3),
    logWruPerRecord: round(logWru / Math.max(1, segment.records), 3),
    recordsPerBatch: round(segment.records / Math.max(1, segment.batches), 1),
    recordsPerJob: round(segment.records / Math.max(1, segment.events), 4),
    lost: landed.lost,
    dispatchedTwice: landed.dispatchedTwice,
    failedRecords: segment.failed,
    seconds: round((performance.now() - segment.started) / 1000, 1),
    phaseSeconds: {
      route: round(segment.phaseMs.route / 1000, 1),
      project: round(segment.phaseMs.project / 1000, 1),
      check: round(segment.phaseMs.check / 1000, 1),
    },
    cpuMs: {
      routerPerEvent: round(segment.cpuUs.route / 1000 / Math.max(1, segment.events), 3),
      projectorPerBatch: round(segment.projectorHandlerCpuUs / 1000 / Math.max(1, segment.batches), 1),
    },
    rssMb: round(process.memoryUsage().rss / 1024 ** 2, 0),
    heapMb: round(process.memoryUsage().heapUsed / 1024 ** 2, 0),
  };
}

async function phase<T>(segment: Segment, name: keyof Segment['phaseMs'], fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  try {
    return await fn();
  } finally {
    segment.phaseMs[name] += performance.now() - start;
    const used = process.cpuUsage(cpu);
    segment.cpuUs[name] += used.user + used.system;
  }
}

export async function runScale(options: { jobs: number; concurrency: number }): Promise<ScaleResult> {
  const started = performance.now();
  const suffix = randomBytes(3).toString('hex');
  const stack = await provisionBenchStack(`sc${suffix}`);
  const logs = new LogCapture();
  const pipeline = startOurPipeline(stack, PROJECTOR_BATCH_SIZE);
  const clients = { sqs: new SQSClient({}), documents: createDocumentClient() };
  const checkpoints: ScaleCheckpoint[] = [];
  const landed = new Landing(stack, clients);
  try {
    let segment = new Segment();
    for (let done = 0, block = 0; done < options.jobs; block++) {
      const workload = buildWorkload(Math.min(SCALE_BLOCK, options.jobs - done), {
        runId: `s${block}${suffix}`,
        seed: SEED + block,
      });
      const outcomes = await phase(segment, 'route', () =>
        pipeline.route(workload.events, {
          ...segment.router,
          concurrency: options.concurrency,
          requestIdPrefix: `scale-${block}`,
        }),
      );
      segment.router.logBytes += logs.take().bytes;
      const drained = await phase(segment, 'project', () =>
        pipeline.project({ ...segment.projector, minRecords: workload.unique, timeoutMs: 120_000 }),
      );
      segment.projector.logBytes += logs.take().bytes;
      segment.events += workload.events.length;
      segment.records += drained.delivered;
      segment.batches += drained.batches;
      segment.failed += drained.failed;
      segment.projectorHandlerCpuUs += drained.handlerCpuUs;
      done += workload.events.length;
      await phase(segment, 'check', () => landed.check(outcomes));
      if (SCALE_CHECKPOINTS.includes(done) || done === options.jobs) {
        const checkpoint = checkpointOf(segment, done, landed);
        checkpoints.push(checkpoint);
        progress(
          `scale: ${done} jobs — ${checkpoint.total.calls.toFixed(3)} calls/job, ` +
            `${checkpoint.total.wru.toFixed(2)} WRU/job, $${checkpoint.usdPerMillion.toFixed(2)}/M, ` +
            `lost ${checkpoint.lost}, twice ${checkpoint.dispatchedTwice}, ${checkpoint.seconds} s ` +
            `(${JSON.stringify(checkpoint.phaseSeconds)}), RSS ${checkpoint.rssMb} MB, heap ${checkpoint.heapMb} MB`,
        );
        // Loud: a lost or doubled job fails the bench.
        if (checkpoint.lost > 0 || checkpoint.dispatchedTwice > 0) throw new ScaleRunFailedError(checkpoint);
        segment = new Segment();
      }
    }
  } finally {
    pipeline.destroy();
    logs.restore();
    clients.sqs.destroy();
    clients.documents.destroy();
  }
  return {
    jobs: options.jobs,
    block: SCALE_BLOCK,
    concurrency: options.concurrency,
    batchSize: PROJECTOR_BATCH_SIZE,
    checkpoints,
    seconds: Math.round((performance.now() - started) / 1000),
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------- docs/SCALE.md

const n = (value: number, digits: number) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Largest relative distance of a per-job figure from its value at the first checkpoint. */
export function drift(checkpoints: readonly ScaleCheckpoint[], pick: (c: ScaleCheckpoint) => number): number {
  const first = checkpoints[0];
  if (!first || pick(first) === 0) return 0;
  return Math.max(...checkpoints.map((c) => Math.abs(pick(c) - pick(first)) / pick(first)));
}

/** The measured table and its reading, written between SCALE_MARKERS in docs/SCALE.md. */
export function renderScaleRun(result: ScaleResult): string {
  const rows = result.checkpoints.map((c, i) => {
    const from = (result.checkpoints[i - 1]?.jobs ?? 0) + 1;
    return (
      `| ${n(c.jobs, 0)} | ${n(from, 0)}–${n(c.jobs, 0)} | ${n(c.total.calls, 3)} | ` +
      `${n(c.router.calls, 3)} + ${n(c.projector.calls, 3)} | ${n(c.total.wru, 2)} | ${n(c.logWruPerRecord, 2)} | ` +
      `${n(c.total.rru, 2)} | ${n(c.total.eventBridgeEvents, 3)} | $${n(c.usdPerMillion, 2)} | ${c.lost} | ` +
      `${c.dispatchedTwice} | ${n(c.seconds, 0)} | ${n(c.rssMb, 0)} / ${n(c.heapMb, 0)} |`
    );
  });
  const pct = (value: number) => `${n(value * 100, 1)} %`;
  const basis = envelopeBasis(result.checkpoints);
  const cpus = result.checkpoints.map((c) => c.cpuMs);
  const spread = (pick: (cpu: ScaleCheckpoint['cpuMs']) => number, digits: number) =>
    `${n(Math.min(...cpus.map(pick)), digits)}–${n(Math.max(...cpus.map(pick)), digits)}`;
  const cpu = basis
    ? `
CPU this process spent per segment (the handlers and their SDK clients, not the emulators): router
${spread((c) => c.routerPerEvent, 2)} ms per event, projector ${spread((c) => c.projectorPerBatch, 0)} ms per batch of ${n(basis.recordsPerBatch, 0)} records.
The envelope above scales the least of them (router ${n(basis.cpuMs.routerPerEvent, 2)} ms, projector
${n(basis.cpuMs.projectorPerBatch, 0)} ms) to the functions' share of a vCPU: every segment does the same work,
so the spread is other processes on this shared 2-core machine taking turns with the bench, not the code.
`
    : '';
  return `${SCALE_MARKERS.begin}
Generated by \`bench/scale.ts\` (\`npm run bench\`, or \`node bench/run.ts --only scale\`) — do not edit by
hand. **Run:** ${result.date}, ${n(result.jobs, 0)} jobs in ${n(result.seconds, 0)} s on the emulators
(router ${result.concurrency} in flight, stream batches of ${result.batchSize}, blocks of ${n(result.block, 0)} events).

### The envelope (us-east-1 defaults, from the last segment's counts and the least CPU of any segment)

${basis ? renderEnvelope(basis) : ''}

### Per job, per checkpoint segment

| checkpoint (jobs) | segment | calls/job | router + projector | WRU/job | log WRU/record | RRU/job | EventBridge events/job | $ per million jobs | lost | dispatched twice | segment s | bench RSS / heap MB |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Largest distance from the first segment's figure: calls/job ${pct(drift(result.checkpoints, (c) => c.total.calls))},
WRU/job ${pct(drift(result.checkpoints, (c) => c.total.wru))}, $ per million ${pct(drift(result.checkpoints, (c) => c.usdPerMillion))}
(the $ line includes Lambda duration, which is emulator time on a shared machine; every other line is a count).
${cpu}${SCALE_MARKERS.end}`;
}

/** Replaces the generated part of docs/SCALE.md (between the markers) with this run's. */
export function writeScaleDoc(result: ScaleResult): void {
  writeBetweenMarkers(SCALE_DOC, SCALE_MARKERS, renderScaleRun(result));
}

if (import.meta.main) {
  const result = await runScale({
    jobs: Number(process.env.BENCH_SCALE_JOBS ?? SCALE_JOBS),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
  });
  writeResult(result);
  // Keep-alive sockets of the handlers' SDK clients would hold the process open.
  process.exit(0);
}
