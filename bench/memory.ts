/**
 * Benchmark 4: peak RSS of the projector handling one 1,000-record batch, in a fresh process, and
 * one 100-record batch (the event source mapping's BatchSize) with a 128 MB function's heap limits.
 * Records are built with the real builders (validateSubmission → decide → decisionRecord /
 * intakeRejectionRecord), marshalled into the Lambda DynamoDB-stream event shape (NEW_IMAGE), and
 * the projector — its esbuild bundle, as deployed (bench/cold-start.ts builds it like SAM does) — is
 * invoked once with all of them, in a fresh process per repetition (bench/support/projector-memory.mjs,
 * plain JS so Node's TypeScript stripper is not in the measured process). Its AWS calls go to the
 * emulators (DynamoDB Local, moto), not to a mock. Peak RSS = the process's maxRSS, the quantity
 * Lambda reports as "Max Memory Used".
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { validateSubmission } from '../src/intake/submission.ts';
import { handlerEnvironment } from '../src/local/provision.ts';
import { type DecisionRecord, decisionRecord, intakeRejectionRecord } from '../src/log/routing-records.ts';
import { decide } from '../src/routing/decide.ts';
import { defaultRoutingTable } from '../src/routing/default-table.ts';
import { bundleHandler } from './cold-start.ts';
import { provisionBenchStack } from './support/bench-stack.ts';
import { median, progress, writeResult } from './support/stats.ts';
import { buildWorkload } from './support/workload.ts';

export const MEMORY_BATCH = 1000;
/** The routing log's event source mapping delivers at most this many records (template.yaml BatchSize). */
export const MAPPING_BATCH = 100;

/**
 * Heap limits comparable to what Lambda's Node.js runtime derives from a 128 MB memory setting
 * (old space ≈ 90 % of memory, small semi-spaces), to see whether the batch fits once V8 is told
 * it must: V8 grows the heap lazily, so an uncapped process's peak RSS overstates the need.
 */
export const LAMBDA_128_HEAP = ['--max-old-space-size=115', '--max-semi-space-size=4'];

export interface MemoryRun {
  readonly records: number;
  /** maxRSS with the event parsed, before the handler bundle is imported. */
  readonly rssBeforeImportMb: number;
  readonly rssAfterImportMb: number;
  readonly peakRssMb: number;
  readonly handlerMs: number;
  readonly failed: number;
}

export interface MemoryResult {
  readonly records: number;
  readonly repetitions: number;
  readonly peakRssMb: number;
  readonly rssAfterImportMb: number;
  readonly rssBeforeImportMb: number;
  readonly handlerMs: number;
  /** Peak RSS with V8 heap limits like those Lambda's runtime sets for a 128 MB function. */
  readonly cappedPeakRssMb: number;
  readonly cappedFailed: number;
  readonly runs: readonly MemoryRun[];
  readonly cappedRuns: readonly MemoryRun[];
  /** One MAPPING_BATCH-record batch with a 128 MB function's heap limits (medians). */
  readonly mappingBatch?: {
    readonly records: number;
    readonly peakRssMb: number;
    readonly rssAfterImportMb: number;
    readonly rssBeforeImportMb: number;
    readonly failed: number;
    readonly runs: readonly MemoryRun[];
  };
}

export function streamEvent(
  records: readonly DecisionRecord[],
  streamArn: string,
): { Records: DynamoDBRecord[] } {
  return {
    Records: records.map((record, i) => {
      const NewImage = marshall(record, { removeUndefinedValues: true });
      return {
        eventID: `bench-${i}`,
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          ApproximateCreationDateTime: 1795600000,
          Keys: marshall({ stream: record.metadata.stream, version: record.metadata.version }),
          NewImage,
          SequenceNumber: String(1000 + i).padStart(21, '0'),
          SizeBytes: JSON.stringify(NewImage).length,
          StreamViewType: 'NEW_IMAGE',
        },
        eventSourceARN: streamArn,
      } as DynamoDBRecord;
    }),
  };
}

export function buildRecords(runId: string, count = MEMORY_BATCH): DecisionRecord[] {
  const seen = new Set<string>();
  const records: DecisionRecord[] = [];
  for (const event of buildWorkload(count * 2, { runId }).events) {
    if (seen.has(event.id) || records.length === count) continue;
    seen.add(event.id);
    const received = {
      eventId: event.id,
      submittedAt: event.time as string,
      recordedAt: new Date().toISOString(),
      detail: event.detail,
      payloadHash: 'k1:bench',
    };
    const intake = validateSubmission(event, defaultRoutingTable);
    records.push(
      intake.ok
        ? decisionRecord(
            received,
            intake.submission,
            decide(intake.submission, { table: defaultRoutingTable }),
          )
        : intakeRejectionRecord(received, intake),
    );
  }
  return records;
}

export function probeOnce(
  nodeOptions: readonly string[],
  bundle: string,
  eventFile: string,
  env: Record<string, string>,
): MemoryRun {
  const run = spawnSync(
    process.execPath,
    [...nodeOptions, join(import.meta.dirname, 'support/projector-memory.mjs'), bundle, eventFile],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`memory probe failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as MemoryRun;
}

export async function runMemoryBenchmark(repetitions: number): Promise<MemoryResult> {
  // Inside the project, so the template's externals (the runtime's SDK) resolve from node_modules.
  const workdir = mkdtempSync(join(import.meta.dirname, '.build-memory-'));
  try {
    const { file: bundle } = await bundleHandler('projector', workdir);
    const runs: MemoryRun[] = [];
    const cappedRuns: MemoryRun[] = [];
    const mappingRuns: MemoryRun[] = [];
    for (let rep = 0; rep < repetitions; rep++) {
      // A fresh stack and fresh jobs each time, so every run does the full work (no markers yet).
      const suffix = randomBytes(3).toString('hex');
      const stack = await provisionBenchStack(`bm${suffix}`);
      const eventFile = join(workdir, `event-${rep}.json`);
      writeFileSync(
        eventFile,
        JSON.stringify(streamEvent(buildRecords(`m${suffix}`), stack.routingLogStreamArn)),
      );
      runs.push(probeOnce([], bundle, eventFile, handlerEnvironment(stack)));
      // A second fresh stack and jobs for the capped run, so it does the same work (no markers yet).
      const capped = await provisionBenchStack(`bn${suffix}`);
      const cappedEvent = join(workdir, `event-capped-${rep}.json`);
      writeFileSync(
        cappedEvent,
        JSON.stringify(streamEvent(buildRecords(`n${suffix}`), capped.routingLogStreamArn)),
      );
      cappedRuns.push(probeOnce(LAMBDA_128_HEAP, bundle, cappedEvent, handlerEnvironment(capped)));
      // The mapping's own batch size, capped: what a deployed 128 MB projector would hold.
      const small = await provisionBenchStack(`bs${suffix}`);
      const smallEvent = join(workdir, `event-mapping-${rep}.json`);
      writeFileSync(
        smallEvent,
        JSON.stringify(streamEvent(buildRecords(`s${suffix}`, MAPPING_BATCH), small.routingLogStreamArn)),
      );
      mappingRuns.push(probeOnce(LAMBDA_128_HEAP, bundle, smallEvent, handlerEnvironment(small)));
      progress(
        `memory rep ${rep + 1}/${repetitions}: peak RSS ${runs[rep]?.peakRssMb} MB, ` +
          `with a 128 MB function's heap limits ${cappedRuns[rep]?.peakRssMb} MB; ` +
          `${MAPPING_BATCH} records, capped: ${mappingRuns[rep]?.peakRssMb} MB`,
      );
    }
    const med = (pick: (run: MemoryRun) => number) => median(runs.map(pick));
    return {
      records: MEMORY_BATCH,
      repetitions,
      peakRssMb: med((r) => r.peakRssMb),
      rssAfterImportMb: med((r) => r.rssAfterImportMb),
      rssBeforeImportMb: med((r) => r.rssBeforeImportMb),
      handlerMs: med((r) => r.handlerMs),
      cappedPeakRssMb: median(cappedRuns.map((r) => r.peakRssMb)),
      cappedFailed: Math.max(...cappedRuns.map((r) => r.failed)),
      runs,
      cappedRuns,
      mappingBatch: {
        records: MAPPING_BATCH,
        peakRssMb: median(mappingRuns.map((r) => r.peakRssMb)),
        rssAfterImportMb: median(mappingRuns.map((r) => r.rssAfterImportMb)),
        rssBeforeImportMb: median(mappingRuns.map((r) => r.rssBeforeImportMb)),
        failed: Math.max(...mappingRuns.map((r) => r.failed)),
        runs: mappingRuns,
      },
    };
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  writeResult(await runMemoryBenchmark(Number(process.env.BENCH_MEMORY_REPS ?? 3)));
  process.exit(0);
}
