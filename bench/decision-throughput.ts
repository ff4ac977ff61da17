/**
 * Benchmark 2: decision throughput on one core (one Node main thread), warm.
 *   - `decide`: the pure rule engine over pre-validated, mixed submissions (fal, replicate, no_route).
 *   - intake: JSON.parse of the EventBridge event + validateSubmission + decide + the log record
 *     (decisionRecord, or intakeRejectionRecord for invalid input), over the full workload mix.
 * Each figure is the median of SAMPLES timed windows after a warm-up. Runs in its own process.
 */
import { type JobSubmission, validateSubmission } from '../src/intake/submission.ts';
import { decisionRecord, intakeRejectionRecord, type Received } from '../src/log/routing-records.ts';
import { decide } from '../src/routing/decide.ts';
import { defaultRoutingTable } from '../src/routing/default-table.ts';
import { median, round, writeResult } from './support/stats.ts';
import { buildWorkload } from './support/workload.ts';

const SAMPLES = 7;
const WINDOW_MS = 200;
const WARMUP_MS = 400;

export interface ThroughputResult {
  readonly decisionsPerSecond: number;
  readonly intakePerSecond: number;
  readonly samples: { readonly decide: readonly number[]; readonly intake: readonly number[] };
  /** Share of the intake path per stage, from a separate per-stage timing (µs per op). */
  readonly intakeBreakdownUs: Record<string, number>;
}

/** Ops per second of `op` over a timed window, in chunks to keep the clock out of the loop. */
function opsPerSecond(op: (i: number) => unknown, windowMs: number): number {
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < windowMs) {
    for (let i = 0; i < 1000; i++) sink += op(ops + i) ? 1 : 0;
    ops += 1000;
    now = performance.now();
  }
  if (sink < 0) console.log(sink);
  return (ops * 1000) / (now - start);
}

function sample(op: (i: number) => unknown): number[] {
  opsPerSecond(op, WARMUP_MS);
  return Array.from({ length: SAMPLES }, () => opsPerSecond(op, WINDOW_MS));
}

export function runDecisionThroughput(): ThroughputResult {
  const workload = buildWorkload(10_000, { runId: 'tp' });
  const jobs: JobSubmission[] = [];
  for (const event of workload.events) {
    const intake = validateSubmission(event, defaultRoutingTable);
    if (intake.ok) jobs.push(intake.submission);
  }
  const table = defaultRoutingTable;
  const decideOp = (i: number) => decide(jobs[i % jobs.length] as JobSubmission, { table });

  const rawEvents = workload.events.map((event) => JSON.stringify(event));
  const received = (detail: unknown): Received => ({
    eventId: 'evt',
    submittedAt: '2026-11-25T10:00:00Z',
    recordedAt: '2026-11-25T10:00:00.123Z',
    detail,
    // The router's keyed hash needs the hour's key (one KMS call per container-hour): not decision time.
    payloadHash: 'k1:bench',
  });
  const intakeOp = (i: number) => {
    const event = JSON.parse(rawEvents[i % rawEvents.length] as string);
    const intake = validateSubmission(event, defaultRoutingTable);
    return intake.ok
      ? decisionRecord(received(event.detail), intake.submission, decide(intake.submission, { table }))
      : intakeRejectionRecord(received(event.detail), intake);
  };

  const decideSamples = sample(decideOp);
  const intakeSamples = sample(intakeOp);

  // Where intake time goes: each stage alone, on the same inputs (µs per op, median of windows).
  const parsed = rawEvents.map((raw) => JSON.parse(raw));
  const validated = parsed.map((event) => validateSubmission(event, defaultRoutingTable));
  const decisions = validated.map((v) => (v.ok ? decide(v.submission, { table }) : null));
  const us = (op: (i: number) => unknown) => round(1e6 / median(sample(op)), 3);
  const intakeBreakdownUs = {
    'JSON.parse': us((i) => JSON.parse(rawEvents[i % rawEvents.length] as string)),
    validateSubmission: us((i) => validateSubmission(parsed[i % parsed.length], defaultRoutingTable)),
    decide: us(decideOp),
    'record building': us((i) => {
      const k = i % validated.length;
      const v = validated[k] as ReturnType<typeof validateSubmission>;
      const event = parsed[k];
      return v.ok
        ? decisionRecord(received(event.detail), v.submission, decisions[k] as ReturnType<typeof decide>)
        : intakeRejectionRecord(received(event.detail), v);
    }),
  };

  return {
    decisionsPerSecond: Math.round(median(decideSamples)),
    intakePerSecond: Math.round(median(intakeSamples)),
    samples: { decide: decideSamples.map(Math.round), intake: intakeSamples.map(Math.round) },
    intakeBreakdownUs,
  };
}

if (import.meta.main) writeResult(runDecisionThroughput());
