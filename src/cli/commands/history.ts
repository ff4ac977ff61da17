/**
 * `routing-manager history <jobId>`: the job's story in the routing log, in domain terms — the job
 * as submitted, the decision with its explanation (matched rule, every candidate and why it was not
 * taken, the estimated cost in credits), any replays (incident, who, why, the dispatch they caused)
 * — and the job's current routing status in Jobs-<Stage>. Storage details (index keys, payload
 * hashes, schema versions) stay out; `aws dynamodb query` shows the raw items.
 */
import type { Command } from 'commander';
import { DynamoDbJobStatusReader, type JobProjection } from '../../aws/dynamodb-job-status.ts';
import { DynamoDbRoutingLog } from '../../aws/dynamodb-routing-log.ts';
import type { FieldError } from '../../intake/submission.ts';
import type { RoutingLogRecord } from '../../log/routing-records.ts';
import { dispatchIdOf } from '../../projections/effects.ts';
import type { Explanation } from '../../routing/decide.ts';
import { type CliContext, JobNotFoundError } from '../cli-context.ts';
import { type Cost, costOf, jsonLine, orDash, renderCost, renderFacts, renderTable } from '../output.ts';

interface EntryBase {
  readonly version: number;
  readonly recordedAt: string;
}

export type HistoryEntry =
  | (EntryBase & {
      readonly type: 'RoutingDecided';
      readonly eventId: string;
      readonly submittedAt: string | null;
      readonly outcome: 'routed';
      readonly provider: string;
      readonly model: string;
      readonly queue: string;
      readonly estimatedCost: Cost;
      readonly dispatchId: string;
      readonly explanation: Explanation;
    })
  | (EntryBase & {
      readonly type: 'RoutingRejected';
      readonly eventId: string;
      readonly submittedAt: string | null;
      readonly outcome: 'rejected';
      readonly reason: string;
      readonly requestedProvider: string;
      readonly fieldErrors: readonly FieldError[];
      readonly explanation: Explanation | null;
    })
  | (EntryBase & {
      readonly type: 'ProjectionReplayRequested';
      readonly incident: string | null;
      readonly replayId: string;
      readonly requestedBy: string;
      readonly why: string;
      readonly replayOf: number;
      /** The new dispatch the replay caused (null when the replayed decision was a rejection). */
      readonly dispatchId: string | null;
    });

/** Routing's own attributes of the Jobs item (other agents' attributes are theirs to show). */
export type RoutingStatus = Pick<
  JobProjection,
  'status' | 'provider' | 'model' | 'queue' | 'reason' | 'routedAt' | 'routingVersion'
>;

export interface JobHistory {
  readonly jobId: string;
  readonly stream: string;
  /** The job as the decision recorded it (validated, or as submitted for an intake rejection). */
  readonly job: unknown;
  readonly records: readonly HistoryEntry[];
  readonly projection: RoutingStatus | null;
}

/** `job#…` and `event#…` are taken as stream ids (intake rejections without a jobId live in the latter). */
export const streamOf = (id: string): string => (/^(job|event)#/.test(id) ? id : `job#${id}`);

export function entryOf(record: RoutingLogRecord): HistoryEntry {
  const base = { version: record.version, recordedAt: record.recordedAt };
  if (record.type === 'ProjectionReplayRequested') {
    return {
      ...base,
      type: record.type,
      incident: record.incident ?? null,
      replayId: record.replayId,
      requestedBy: record.requestedBy,
      why: record.why,
      replayOf: record.replayOf,
      dispatchId:
        record.decision.type === 'RoutingDecided' ? dispatchIdOf(record.jobId, record.version) : null,
    };
  }
  const received = { eventId: record.eventId, submittedAt: record.submittedAt };
  if (record.type === 'RoutingDecided') {
    return {
      ...base,
      ...received,
      type: record.type,
      outcome: record.outcome,
      provider: record.provider,
      model: record.model,
      queue: record.queue,
      estimatedCost: costOf(record.estimatedCost),
      dispatchId: dispatchIdOf(record.jobId, record.version),
      explanation: record.explanation,
    };
  }
  return {
    ...base,
    ...received,
    type: record.type,
    outcome: record.outcome,
    reason: record.reason,
    requestedProvider: record.requestedProvider,
    fieldErrors: record.fieldErrors,
    explanation: record.explanation,
  };
}

/** The job of the stream's decision as an object; the one place the job's content is shown from. */
function jobOf(records: readonly RoutingLogRecord[]): unknown {
  const decision = records.find((record) => record.type !== 'ProjectionReplayRequested');
  if (!decision) return null;
  try {
    return JSON.parse(decision.job) as unknown;
  } catch {
    return null;
  }
}

const routingStatusOf = (item: JobProjection): RoutingStatus => {
  const { status, provider, model, queue, reason, routedAt, routingVersion } = item;
  return Object.fromEntries(
    Object.entries({ status, provider, model, queue, reason, routedAt, routingVersion }).filter(
      ([, value]) => value !== undefined,
    ),
  );
};

export async function readHistory(context: CliContext, id: string): Promise<JobHistory> {
  const stream = streamOf(id);
  const { log: logTable, jobs: jobsTable } = context.tables;
  const records = await context.onTable(logTable, () =>
    new DynamoDbRoutingLog(context.documents, logTable).readStream(stream),
  );
  if (records.length === 0) throw new JobNotFoundError(id, logTable);
  const jobId = records[0]?.jobId ?? null;
  const projection = jobId
    ? await context.onTable(jobsTable, () =>
        new DynamoDbJobStatusReader(context.documents, jobsTable).read(jobId),
      )
    : null;
  return {
    jobId: jobId ?? id,
    stream,
    job: jobOf(records),
    records: records.map(entryOf),
    projection: projection ? routingStatusOf(projection) : null,
  };
}

export function decisionSummary(entry: HistoryEntry): string {
  if (entry.type === 'RoutingDecided') {
    return (
      `routed → ${entry.provider}/${entry.model} (${entry.queue}), ` +
      `est. cost ${renderCost(entry.estimatedCost.amount)}, dispatch ${entry.dispatchId}`
    );
  }
  return entry.type === 'RoutingRejected' ? `rejected: ${entry.reason}` : `replay of v${entry.replayOf}`;
}

/** Longer values (an inline image, long metadata) are summarised by size in the table view. */
const MAX_SHOWN_VALUE = 120;

function renderJob(job: unknown): string[] {
  if (job === null || typeof job !== 'object' || Array.isArray(job)) return [`  ${JSON.stringify(job)}`];
  const facts = Object.entries(job as Record<string, unknown>).map(([key, value]): [string, string] => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const shown = text.length > MAX_SHOWN_VALUE ? `<${Buffer.byteLength(text)} bytes>` : text;
    return [key, shown];
  });
  return renderFacts(facts)
    .split('\n')
    .map((line) => `  ${line}`);
}

function creditText(explanation: Explanation): string {
  if (explanation.creditBalance === undefined) return 'not consulted';
  if (explanation.creditBalance === null) return 'no credit record';
  return renderCost(explanation.creditBalance);
}

function renderEntry(entry: HistoryEntry): string[] {
  const head = `v${entry.version}  ${entry.recordedAt}  ${entry.type}`;
  if (entry.type === 'ProjectionReplayRequested') {
    return [
      `${head}  re-projects v${entry.replayOf}${entry.dispatchId ? `, dispatch ${entry.dispatchId}` : ''}`,
      `    incident ${orDash(entry.incident)} (replay ${entry.replayId}) by ${entry.requestedBy}: ${entry.why}`,
    ];
  }
  const lines = [
    `${head}  ${decisionSummary(entry)}`,
    `    event ${entry.eventId}, submitted ${orDash(entry.submittedAt)}`,
  ];
  if (entry.type === 'RoutingRejected') {
    for (const error of entry.fieldErrors) lines.push(`    field ${error.path}: ${error.message}`);
  }
  const explanation = entry.explanation;
  if (!explanation) return lines;
  lines.push(
    `    rules ${explanation.rulesVersion}, matched rule ${orDash(explanation.matchedRule)}, ` +
      `requested ${explanation.requestedProvider}, credit balance ${creditText(explanation)}`,
  );
  const table = renderTable(
    ['rule', 'candidate', 'verdict', 'why'],
    explanation.candidates.map((candidate) => [
      candidate.rule,
      candidate.provider ? `${candidate.provider}/${candidate.model}` : '-',
      candidate.verdict,
      [candidate.reason, candidate.detail].filter(Boolean).join(': ') || '-',
    ]),
  );
  lines.push(...table.split('\n').map((line) => `      ${line}`));
  return lines;
}

export function renderHistory(history: JobHistory, jobsTable: string): string {
  const lines = [`job ${history.jobId}`, ...renderJob(history.job), ''];
  for (const entry of history.records) lines.push(...renderEntry(entry), '');
  const p = history.projection;
  lines.push(
    p
      ? `routing status (${jobsTable}): ${orDash(p.status)}` +
          (p.provider ? ` ${p.provider}/${orDash(p.model)}` : '') +
          (p.reason ? ` reason ${p.reason}` : '') +
          `, routingVersion ${orDash(p.routingVersion)}, routedAt ${orDash(p.routedAt)}`
      : `routing status (${jobsTable}): none`,
  );
  return lines.join('\n');
}

export function registerHistory(program: Command, contextOf: (command: Command) => CliContext) {
  program
    .command('history')
    .description("a job's routing story: the job, the decision and why, replays, and its routing status")
    .argument('<jobId>', 'the job id (or a stream id: job#…, event#…)')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const history = await readHistory(context, jobId);
      context.out(context.json ? jsonLine(history) : renderHistory(history, context.tables.jobs));
    });
}
