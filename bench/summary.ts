/**
 * Per-job figures from the pipeline runs: medians over the repetitions of each run's own ratios
 * (ours and the baseline are measured in the same run, so their ratio is too).
 * "Per job" = per inbound `video.job.submitted` event, the 5 % redeliveries included.
 */

import type { PipelineResult, PipelineRun } from './pipeline.ts';
import type { MeterSnapshot } from './support/aws-call-meter.ts';
import { median, round } from './support/stats.ts';

export interface SidePerJob {
  readonly calls: number;
  readonly byCommand: Record<string, number>;
  /** Billed units per job (reported capacity + estimated failed-conditional writes; reads ≥ 1 per key). */
  readonly wru: number;
  readonly rru: number;
  readonly sqsRequests: number;
  readonly eventBridgeEvents: number;
  readonly logBytes: number;
  readonly lambdaInvocations: number;
  /** Median handler time per invocation, ms. */
  readonly invocationMs: number;
  /** DynamoDB per table family, per job (e.g. `RoutingContent`: the cost of user content protection). */
  readonly tables: Record<string, TablePerJob>;
}

export interface TablePerJob {
  readonly calls: number;
  readonly wru: number;
  /** ≥ 1 RRU per strongly consistent key read, found or not. */
  readonly rru: number;
}

export interface PipelineSummary {
  readonly events: number;
  readonly router: SidePerJob;
  readonly projector: SidePerJob;
  readonly ours: SidePerJob;
  readonly baseline: SidePerJob;
  /** ours.calls / baseline.calls, median over runs. */
  readonly callRatio: number;
  readonly projectorRecordsPerBatch: number;
  readonly endToEndJobsPerSecond: number;
  readonly routerJobsPerSecond: number;
  readonly projectorRecordsPerSecond: number;
  readonly baselineJobsPerSecond: number;
  readonly failedRecords: number;
}

/** One side's per-job figures from a meter snapshot over `events` inbound events. */
export function side(
  meter: MeterSnapshot,
  events: number,
  logBytes: number,
  invocations: number,
  ms: number,
): SidePerJob {
  return {
    calls: meter.totalCalls / events,
    byCommand: Object.fromEntries(Object.entries(meter.calls).map(([k, v]) => [k, v / events])),
    wru: (meter.reportedWcu + meter.estimatedWcu) / events,
    rru: Math.max(meter.reportedRcu, meter.readKeys) / events,
    sqsRequests: meter.sqsBilledRequests / events,
    eventBridgeEvents: meter.eventBridgeEvents / events,
    logBytes: logBytes / events,
    lambdaInvocations: invocations / events,
    invocationMs: ms,
    tables: Object.fromEntries(
      Object.entries(meter.tables).map(([family, u]) => [
        family,
        { calls: u.calls / events, wru: u.wcu / events, rru: Math.max(u.rcu, u.readKeys) / events },
      ]),
    ),
  };
}

function medianSide(sides: readonly SidePerJob[], digits = 4): SidePerJob {
  const keys = new Set(sides.flatMap((s) => Object.keys(s.byCommand)));
  const m = (pick: (s: SidePerJob) => number) => round(median(sides.map(pick)), digits);
  return {
    calls: m((s) => s.calls),
    byCommand: Object.fromEntries([...keys].sort().map((key) => [key, m((s) => s.byCommand[key] ?? 0)])),
    wru: m((s) => s.wru),
    rru: m((s) => s.rru),
    sqsRequests: m((s) => s.sqsRequests),
    eventBridgeEvents: m((s) => s.eventBridgeEvents),
    logBytes: m((s) => s.logBytes),
    lambdaInvocations: m((s) => s.lambdaInvocations),
    invocationMs: m((s) => s.invocationMs),
    tables: Object.fromEntries(
      [...new Set(sides.flatMap((s) => Object.keys(s.tables)))].sort().map((family) => {
        const t = (pick: (u: TablePerJob) => number) =>
          m((s) => (s.tables[family] ? pick(s.tables[family]) : 0));
        return [family, { calls: t((u) => u.calls), wru: t((u) => u.wru), rru: t((u) => u.rru) }];
      }),
    ),
  };
}

/** Router plus projector: every count added (a sum has no single median handler time). */
export function sum(a: SidePerJob, b: SidePerJob): SidePerJob {
  const byCommand: Record<string, number> = { ...a.byCommand };
  for (const [k, v] of Object.entries(b.byCommand)) byCommand[k] = (byCommand[k] ?? 0) + v;
  return {
    calls: a.calls + b.calls,
    byCommand,
    wru: a.wru + b.wru,
    rru: a.rru + b.rru,
    sqsRequests: a.sqsRequests + b.sqsRequests,
    eventBridgeEvents: a.eventBridgeEvents + b.eventBridgeEvents,
    logBytes: a.logBytes + b.logBytes,
    lambdaInvocations: a.lambdaInvocations + b.lambdaInvocations,
    invocationMs: Number.NaN,
    tables: Object.fromEntries(
      [...new Set([...Object.keys(a.tables), ...Object.keys(b.tables)])].map((family) => {
        const [x, y] = [a.tables[family], b.tables[family]];
        const add = (pick: (u: TablePerJob) => number) => (x ? pick(x) : 0) + (y ? pick(y) : 0);
        return [family, { calls: add((u) => u.calls), wru: add((u) => u.wru), rru: add((u) => u.rru) }];
      }),
    ),
  };
}

export function summarizePipeline(result: PipelineResult): PipelineSummary {
  const per = (run: PipelineRun) => {
    const router = side(
      run.router.meter,
      run.events,
      run.router.logBytes,
      run.router.invocations,
      run.router.invocationMs.median,
    );
    const projector = side(
      run.projector.meter,
      run.events,
      run.projector.logBytes,
      run.projector.invocations,
      run.projector.invocationMs.median,
    );
    const baseline = side(
      run.baseline.meter,
      run.events,
      run.baseline.logBytes,
      run.baseline.invocations,
      run.baseline.invocationMs.median,
    );
    const ours = sum(router, projector);
    return { router, projector, ours, baseline, ratio: ours.calls / baseline.calls };
  };
  const runs = result.runs.map(per);
  const ours = medianSide(runs.map((r) => r.ours));
  return {
    events: result.jobs,
    router: medianSide(runs.map((r) => r.router)),
    projector: medianSide(runs.map((r) => r.projector)),
    ours: { ...ours, invocationMs: Number.NaN },
    baseline: medianSide(runs.map((r) => r.baseline)),
    callRatio: round(median(runs.map((r) => r.ratio)), 3),
    projectorRecordsPerBatch: round(
      median(result.runs.map((r) => r.projector.records / r.projector.invocations)),
      1,
    ),
    endToEndJobsPerSecond: round(
      median(result.runs.map((r) => (r.events * 1000) / (r.router.wallMs + r.projector.wallMs))),
      0,
    ),
    routerJobsPerSecond: round(median(result.runs.map((r) => (r.events * 1000) / r.router.wallMs)), 0),
    projectorRecordsPerSecond: round(
      median(result.runs.map((r) => (r.projector.records * 1000) / r.projector.wallMs)),
      0,
    ),
    baselineJobsPerSecond: round(median(result.runs.map((r) => (r.events * 1000) / r.baseline.wallMs)), 0),
    failedRecords: Math.max(...result.runs.map((r) => r.projector.failed)),
  };
}
