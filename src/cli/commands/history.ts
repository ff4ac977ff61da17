/**
 * `routing-manager history <jobId>`: the job's story in the routing log, in domain terms — the
 * job's routing facts, the decision with its explanation (matched rule, every candidate and why it
 * was not taken, the estimated cost in credits, the dispatch id), any replays (incident, who, why,
 * the dispatch they caused), erasures and provider-health transitions — and the job's routing
 * status in Jobs-<Stage>. Storage details (index keys, payload hashes, schema versions, sealed
 * content) stay out; `aws dynamodb query` shows the raw items. The job's user content (user id,
 * prompt, extra fields) is not shown unless asked for with --show-content (docs/DATA_PROTECTION.md).
 */
import type { Command } from 'commander';
import { type ContentStatus, contentStatusOf } from '../../audit/content-status.ts';
import { DynamoDbContentVault } from '../../aws/dynamodb-content-vault.ts';
import { DynamoDbJobStatusReader, type JobProjection } from '../../aws/dynamodb-job-status.ts';
import { DynamoDbRoutingLog } from '../../aws/dynamodb-routing-log.ts';
import { ContentKeyRing } from '../../content/content-vault.ts';
import type { FieldError } from '../../intake/submission.ts';
import { type ContentWithheldReason, isDecision, type RoutingLogRecord } from '../../log/routing-records.ts';
import { dispatchIdOf } from '../../projections/effects.ts';
import type { HealthTransition } from '../../provider-health/breaker.ts';
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
      /** The new dispatch the replay caused (null for a rejection, or when it sent nothing). */
      readonly dispatchId: string | null;
      readonly contentWithheld: ContentWithheldReason | null;
    })
  | (EntryBase & {
      readonly type: 'ContentErased';
      readonly erasureId: string;
      readonly requestedBy: string;
      readonly why: string;
    })
  | (EntryBase & { readonly type: 'ProviderHealthChanged'; readonly transition: HealthTransition });

/** Routing's own attributes of the Jobs item (other agents' attributes are theirs to show). */
export type RoutingStatus = Pick<
  JobProjection,
  'status' | 'provider' | 'model' | 'queue' | 'reason' | 'routedAt' | 'routingVersion'
>;

export interface JobHistory {
  readonly jobId: string;
  readonly stream: string;
  /** The job's routing facts as the decision recorded them (no user content); null if none. */
  readonly job: unknown;
  readonly records: readonly HistoryEntry[];
  readonly projection: RoutingStatus | null;
  /** The user content: `hidden` unless asked for; then where it stands, and itself if retained. */
  readonly content: JobContentView;
}

export type JobContentView =
  | { readonly status: 'hidden' }
  | { readonly status: ContentStatus; readonly expiresAt?: string; readonly job?: unknown };

/** Where the job's content stands, and the content itself when it is retained. */
export async function readContent(
  context: CliContext,
  records: readonly RoutingLogRecord[],
): Promise<{ view: Exclude<JobContentView, { status: 'hidden' }>; transitKeyId: string | null }> {
  const decision = records.find((record) => record.version === 1);
  const sealed = decision && isDecision(decision) ? decision.content : undefined;
  if (!decision || !sealed)
    return {
      view: { status: contentStatusOf(records, undefined, false, context.now()) },
      transitKeyId: null,
    };
  const vault = new DynamoDbContentVault(context.documents, context.tables.content);
  const now = context.now();
  const [retained, keys] = await context.onTable(context.tables.content, () =>
    Promise.all([vault.read([decision.stream]), new ContentKeyRing(vault).openingKeys([sealed.keyId], now)]),
  );
  const item = retained.get(decision.stream);
  const status = contentStatusOf(records, item, keys.has(sealed.keyId), now);
  return {
    view:
      status === 'retained' && item
        ? { status, expiresAt: new Date(item.expiresAt * 1000).toISOString(), job: JSON.parse(item.content) }
        : { status },
    transitKeyId: sealed.keyId,
  };
}

/**
 * `job#…` and `event#…` are taken as stream ids (intake rejections without a jobId live in the
 * latter); so is `health#<provider>[#<model>]`, a breaker's transitions.
 */
export const streamOf = (id: string): string => (/^(job|event|health)#/.test(id) ? id : `job#${id}`);

export function entryOf(record: RoutingLogRecord): HistoryEntry {
  const base = { version: record.version, recordedAt: record.recordedAt };
  switch (record.type) {
    case 'ProjectionReplayRequested':
      return {
        ...base,
        type: record.type,
        incident: record.incident ?? null,
        replayId: record.replayId,
        requestedBy: record.requestedBy,
        why: record.why,
        replayOf: record.replayOf,
        dispatchId:
          record.decision.type === 'RoutingDecided' && !record.contentWithheld
            ? dispatchIdOf(record.jobId, record.version)
            : null,
        contentWithheld: record.contentWithheld ?? null,
      };
    case 'ContentErased':
      return {
        ...base,
        type: record.type,
        erasureId: record.erasureId,
        requestedBy: record.requestedBy,
        why: record.why,
      };
    case 'ProviderHealthChanged':
      return { ...base, type: record.type, transition: record.transition };
    case 'RoutingDecided':
      return {
        ...base,
        type: record.type,
        eventId: record.eventId,
        submittedAt: record.submittedAt,
        outcome: record.outcome,
        provider: record.provider,
        model: record.model,
        queue: record.queue,
        estimatedCost: costOf(record.estimatedCost),
        dispatchId: dispatchIdOf(record.jobId, record.version),
        explanation: record.explanation,
      };
    case 'RoutingRejected':
      return {
        ...base,
        type: record.type,
        eventId: record.eventId,
        submittedAt: record.submittedAt,
        outcome: record.outcome,
        reason: record.reason,
        requestedProvider: record.requestedProvider,
        fieldErrors: record.fieldErrors,
        explanation: record.explanation,
      };
  }
}

/** The routing facts of the stream's decision as an object (a stored text that is not JSON: null). */
function jobOf(records: readonly RoutingLogRecord[]): unknown {
  const decision = records.find(isDecision);
  if (!decision?.job) return null;
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

export async function readHistory(
  context: CliContext,
  id: string,
  { showContent = false }: { showContent?: boolean } = {},
): Promise<JobHistory> {
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
  const content: JobContentView = showContent
    ? (await readContent(context, records)).view
    : { status: 'hidden' };
  return {
    jobId: jobId ?? id,
    stream,
    job: jobOf(records),
    records: records.map(entryOf),
    projection: projection ? routingStatusOf(projection) : null,
    content,
  };
}

/** Longer values (long metadata) are summarised by their size in the table view. */
const MAX_SHOWN_VALUE = 120;

function renderJob(job: unknown): string[] {
  if (job === null || typeof job !== 'object' || Array.isArray(job)) return [`  ${JSON.stringify(job)}`];
  const facts = Object.entries(job as Record<string, unknown>).map(([key, value]): [string, string] => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return [key, text.length > MAX_SHOWN_VALUE ? `<${Buffer.byteLength(text)} bytes>` : text];
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
  switch (entry.type) {
    case 'ProjectionReplayRequested':
      return [
        `${head}  re-projects v${entry.replayOf}${entry.dispatchId ? `, dispatch ${entry.dispatchId}` : ''}`,
        `    incident ${orDash(entry.incident)} (replay ${entry.replayId}) by ${entry.requestedBy}: ${entry.why}`,
        ...(entry.contentWithheld ? [`    sent nothing: ${entry.contentWithheld.replace('_', ' ')}`] : []),
      ];
    case 'ContentErased':
      return [
        `${head}  user content erased`,
        `    erasure ${entry.erasureId} by ${entry.requestedBy}: ${entry.why}`,
      ];
    case 'ProviderHealthChanged': {
      const t = entry.transition;
      return [
        `${head}  ${t.previousStatus} → ${t.status} (${t.mode})${t.openUntil ? ` until ${t.openUntil}` : ''}`,
        `    ${t.reason}: ${t.detail}; caused by ${t.causedBy}${t.actor ? ` (${t.actor})` : ''}`,
      ];
    }
  }
  const summary =
    entry.type === 'RoutingDecided'
      ? `routed → ${entry.provider}/${entry.model} (${entry.queue}), ` +
        `est. cost ${renderCost(entry.estimatedCost.amount)}, dispatch ${entry.dispatchId}`
      : `rejected: ${entry.reason}`;
  const lines = [`${head}  ${summary}`, `    event ${entry.eventId}, submitted ${orDash(entry.submittedAt)}`];
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
  const c = history.content;
  lines.push(
    c.status === 'hidden'
      ? 'content: hidden (add --show-content)'
      : c.status === 'retained'
        ? `content: retained until ${c.expiresAt}\n    ${JSON.stringify(c.job)}`
        : `content: ${c.status.replace('_', ' ')}`,
  );
  const p = history.projection;
  lines.push(
    p
      ? `projection (${jobsTable}): ${orDash(p.status)}` +
          (p.provider ? ` ${p.provider}/${orDash(p.model)}` : '') +
          (p.reason ? ` reason ${p.reason}` : '') +
          `, routingVersion ${orDash(p.routingVersion)}, routedAt ${orDash(p.routedAt)}`
      : `projection (${jobsTable}): none`,
  );
  return lines.join('\n');
}

export function registerHistory(program: Command, contextOf: (command: Command) => CliContext) {
  program
    .command('history')
    .description(
      "a job's routing story: its routing facts, the decision and why, replays, and its routing status",
    )
    .argument('<jobId>', 'the job id (or a stream id: job#…, event#…, health#…)')
    .option('--show-content', "also show the job's user content (user id, prompt, extra fields), if retained")
    .action(async (jobId: string, options: { showContent?: boolean }, command: Command) => {
      const context = contextOf(command);
      const history = await readHistory(context, jobId, { showContent: options.showContent === true });
      context.out(context.json ? jsonLine(history) : renderHistory(history, context.tables.jobs));
    });
}
