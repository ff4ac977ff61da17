/**
 * `routing-manager history <jobId>`: the job's story in domain terms — its routing facts as an
 * object, every record of its log stream (the decision with its explanation: matched rule, every
 * candidate and why it was not taken, the estimated cost in credits and the dispatch id; replays
 * with their incident and the dispatch they caused; revisions, erasures) — and the job's current
 * projection in Jobs-<Stage>. Storage details (index keys, payload hashes, schema versions, sealed
 * content) stay out: `aws dynamodb query` shows the raw items. The job's user content (user id,
 * prompt, extra fields) is not shown unless asked for with --show-content (docs/DATA_PROTECTION.md).
 */

import type { Command } from 'commander';
import { jobStateOf } from '../../log/job-state.ts';
import {
  type AfterHold,
  type DecisionRecord,
  projectedDecisionOf,
  type RoutingLogRecord,
} from '../../log/routing-records.ts';
import type { JobProjection } from '../../ports/job-status-reader.ts';
import { dispatchIdOf } from '../../projections/effects.ts';
import { type ContentStatus, readContentStatus, withoutSealedContent } from '../../queries/content-status.ts';
import type { Explanation } from '../../routing/decide.ts';
import type { CandidateQuote } from '../../routing/eta.ts';
import { type CliContext, JobNotFoundError } from '../cli-context.ts';
import { costOf, jsonLine, orDash, renderCost, renderFacts, renderTable } from '../output.ts';
import { checkBreakerName } from '../vocabulary.ts';

export interface JobHistory {
  readonly jobId: string;
  readonly stream: string;
  /** The job's routing facts as its decision recorded them (no user content); null if none. */
  readonly job: unknown;
  readonly records: readonly RoutingLogRecord[];
  readonly projection: JobProjection | null;
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
): Promise<Exclude<JobContentView, { status: 'hidden' }>> {
  const ports = context.ports();
  const { status, retained } = await context.onTable(context.tables.content, () =>
    readContentStatus(jobStateOf(records), { store: ports.content, keys: ports.contentKeys }, context.now()),
  );
  return status === 'retained' && retained
    ? {
        status,
        expiresAt: new Date(retained.expiresAt * 1000).toISOString(),
        job: JSON.parse(retained.content),
      }
    : { status };
}

/**
 * `job#…` and `event#…` are taken as stream ids (intake rejections without a jobId live in the
 * latter); so is `health#<provider>[#<model>]`, a breaker's transitions.
 */
export const streamOf = (id: string): string => (/^(job|event|health)#/.test(id) ? id : `job#${id}`);

/** The breaker a `health#<provider>[#<model>]` stream belongs to (`fal`, `fal#wan-i2v`); null otherwise. */
export const breakerOfStream = (stream: string): string | null =>
  stream.startsWith('health#') ? stream.slice('health#'.length) : null;

export async function readHistory(
  context: CliContext,
  id: string,
  { showContent = false }: { showContent?: boolean } = {},
): Promise<JobHistory> {
  const stream = streamOf(id);
  const breaker = breakerOfStream(stream);
  if (breaker) {
    const [provider = '', model = null] = breaker.split('#');
    await checkBreakerName(context, provider, model);
  }
  const { log: logTable, jobs: jobsTable } = context.tables;
  const records = await context.onTable(logTable, () => context.ports().log.readStream(stream));
  if (records.length === 0) {
    throw new JobNotFoundError(
      id,
      logTable,
      breaker
        ? `no transition recorded for breaker ${breaker} in table ${logTable}: it has been closed (auto) since the start; \`routing-manager health\` shows every breaker`
        : undefined,
    );
  }
  const jobId = records[0]?.jobId ?? null;
  const projection = jobId
    ? await context.onTable(jobsTable, () => context.ports().jobStatus.read(jobId))
    : null;
  const content: JobContentView = showContent ? await readContent(context, records) : { status: 'hidden' };
  return {
    jobId: jobId ?? id,
    stream,
    job: jobOf(records),
    records: records.map(withoutSealedContent),
    projection,
    content,
  };
}

/** The routing facts of the stream's decision as an object (a stored text that is not JSON: null). */
function jobOf(records: readonly RoutingLogRecord[]): unknown {
  const { decision } = jobStateOf(records);
  if (!decision?.job) return null;
  try {
    return JSON.parse(decision.job) as unknown;
  } catch {
    return null;
  }
}

/** Fields that are storage, not domain: the log's key, hashes, schema versions (the index keys are never on a record). */
const STORAGE_FIELDS = new Set(['stream', 'schemaVersion', 'payloadHash', 'job']);

/** The dispatch a record caused, if it sent one: the projector's id for its version. */
function dispatchOf(record: RoutingLogRecord): string | null {
  if (record.type === 'RoutingDecided') return dispatchIdOf(record.jobId, record.version);
  if (record.type === 'ProjectionReplayRequested' && record.contentWithheld) return null;
  if (record.type === 'ProjectionReplayRequested' || record.type === 'RoutingRevised')
    return record.decision.type === 'RoutingDecided' ? dispatchIdOf(record.jobId, record.version) : null;
  return null;
}

/** A record in domain terms: no storage fields, costs with their unit, the dispatch it caused. */
function domainRecord(record: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (STORAGE_FIELDS.has(key)) continue;
    if (key === 'estimatedCost' && (typeof value === 'number' || value === null)) view[key] = costOf(value);
    else if ((key === 'decision' || key === 'target') && value !== null && typeof value === 'object')
      view[key] = domainRecord(value as Record<string, unknown>);
    else view[key] = value;
  }
  return view;
}

/** The history as JSON: the records in domain terms (a breaker stream: no job fields). */
export function historyJson(history: JobHistory): Record<string, unknown> {
  const breaker = breakerOfStream(history.stream);
  const { jobId, job, projection, content, ...rest } = history;
  return {
    ...(breaker
      ? { breaker, ...rest }
      : { ...history, projection: history.projection && projectionJson(history.projection) }),
    records: history.records.map((record) => {
      const dispatchId = dispatchOf(record);
      return {
        ...domainRecord(record as unknown as Record<string, unknown>),
        ...(dispatchId ? { dispatchId } : {}),
      };
    }),
  };
}

/**
 * The Jobs item as JSON: its sets (`routingDone`, the versions whose effects are complete) as sorted
 * lists — JSON.stringify would print a Set as `{}`.
 */
function projectionJson(projection: JobProjection): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(projection).map(([key, value]) => [
      key,
      value instanceof Set ? [...value].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : value,
    ]),
  );
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

/** `180s/840s, $0.42, 3 free (12 samples)`; a cold-start quote says `default`. */
export function quoteSummary(quote: CandidateQuote): string {
  const parts = [`${quote.etaP50Sec}s/${quote.etaP95Sec}s`];
  if (quote.costEstimateUsd !== null) parts.push(`$${quote.costEstimateUsd}`);
  if (quote.slotsFree !== null) parts.push(`${quote.slotsFree} free`);
  const basis = quote.basis === 'default' ? 'default' : `${quote.basis}, ${quote.samples} samples`;
  return `${parts.join(', ')} (${basis})`;
}

export function decisionSummary(record: DecisionRecord): string {
  return record.type === 'RoutingDecided'
    ? `routed → ${record.provider}/${record.model} (${record.queue}), est. cost ${renderCost(record.estimatedCost)}`
    : `rejected: ${record.reason}`;
}

const dispatchText = (record: RoutingLogRecord): string => {
  const dispatchId = dispatchOf(record);
  return dispatchId ? `, dispatch ${dispatchId}` : '';
};

/**
 * What the decision made of provider health, in its own words: `not consulted`, `unavailable (fail
 * open: …)`, `every candidate healthy`, or the candidates found unhealthy and what that did
 * (excluded, panic, ignored for an explicit provider) — never "ok" beside an exclusion.
 */
export function healthSummary(
  health: Explanation['health'],
  candidates: Explanation['candidates'] = [],
): string {
  if (!health) return 'not consulted';
  if (health.read !== 'ok') return 'unavailable (fail open: every candidate counted healthy)';
  const named = (reasons: (c: Explanation['candidates'][number]) => boolean) => [
    ...new Set(candidates.filter(reasons).map((c) => `${c.provider}/${c.model}`)),
  ];
  const excluded = named((c) => c.reason === 'provider_unhealthy');
  const ignored = named((c) => c.healthIgnored === true);
  const parts = [
    excluded.length > 0 ? `${excluded.join(', ')} unhealthy, excluded` : '',
    health.panic ? 'panic: every candidate unhealthy, the first routed anyway' : '',
    ignored.length > 0 || health.healthIgnored
      ? `${ignored.length > 0 ? `${ignored.join(', ')} unhealthy, ` : ''}ignored (explicit provider)`
      : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'every candidate healthy';
}

/**
 * `reason: detail` without saying a thing twice: a detail that already says the reason stands alone
 * (`5 consecutive failures (server_error)`, not `consecutive_failures: 5 consecutive failures …`),
 * and an addition the detail already holds is left out.
 */
export function reasonText(
  reason: string | undefined,
  detail: string | undefined,
  addition?: string,
): string {
  const spoken = reason?.replaceAll('_', ' ').toLowerCase();
  const saysReason = spoken !== undefined && detail?.toLowerCase().includes(spoken);
  const parts = [saysReason ? undefined : reason, detail];
  if (addition && !detail?.includes(addition)) parts.push(addition);
  return parts.filter(Boolean).join(': ') || '-';
}

/** The line that says how long a job was held before the record that ended its hold, if it was. */
function heldText(afterHold: AfterHold | undefined): string[] {
  if (!afterHold) return [];
  const { heldMs, heldSince, deferredVersion, ended } = afterHold;
  return [
    `    held ${(heldMs / 1000).toFixed(1)} s since ${heldSince} (v${deferredVersion}): ` +
      (ended === 'decided_again' ? 'decided again before its maximum hold' : 'its maximum hold ran out'),
  ];
}

export function renderHistory(history: JobHistory, jobsTable: string): string {
  const breaker = breakerOfStream(history.stream);
  const lines = breaker
    ? [
        `breaker ${breaker}: a provider circuit breaker's stream — every transition of its state, oldest first`,
        '',
      ]
    : [`job ${history.jobId}`, ...renderJob(history.job), ''];
  for (let record of history.records) {
    if (record.type === 'ContentErased') {
      lines.push(
        `v${record.version}  ${record.recordedAt}  ContentErased  user content erased`,
        `    erasure ${record.erasureId} by ${record.requestedBy}: ${record.why}`,
        '',
      );
      continue;
    }
    if (record.type === 'ProjectionReplayRequested') {
      lines.push(
        `v${record.version}  ${record.recordedAt}  ProjectionReplayRequested  re-projects v${record.replayOf}: ` +
          decisionSummary(record.decision) +
          dispatchText(record),
        `    incident ${record.incident ?? '-'} (replay ${record.replayId}) by ${record.requestedBy}: ${record.why}`,
        ...(record.paidAgain
          ? [`    paid again on purpose: the job was ${record.paidAgain} (--pay-again-for)`]
          : []),
        ...(record.contentWithheld ? [`    sent nothing: ${record.contentWithheld.replace('_', ' ')}`] : []),
        '',
      );
      continue;
    }
    if (record.type === 'ProjectionRedriveRequested') {
      lines.push(
        `v${record.version}  ${record.recordedAt}  ProjectionRedriveRequested  re-drives v${record.redriveOf} with its original ids: ` +
          decisionSummary(projectedDecisionOf(record)),
        `    incident ${record.incident} (redrive ${record.redriveId}) by ${record.requestedBy}: ${record.why}`,
        ...(record.contentWithheld ? [`    sent nothing: ${record.contentWithheld.replace('_', ' ')}`] : []),
        '',
      );
      continue;
    }
    if (record.type === 'DispatchOutcomeRecorded') {
      lines.push(
        `v${record.version}  ${record.recordedAt}  DispatchOutcomeRecorded  ${record.outcome} at ` +
          `${record.provider}${record.model ? `/${record.model}` : ''} (dispatch ${record.dispatchId})` +
          (record.errorClass ? `, ${record.errorClass}` : ''),
        `    attempt ${record.causedBy}: the job is done; replay and re-drive skip it`,
        '',
      );
      continue;
    }
    if (record.type === 'ProviderHealthChanged') {
      const t = record.transition;
      lines.push(
        `v${record.version}  ${record.recordedAt}  ProviderHealthChanged  ${t.previousStatus} → ${t.status} (${t.mode})` +
          (t.openUntil ? ` until ${t.openUntil}` : ''),
        `    ${reasonText(t.reason, t.detail)}; caused by ${t.causedBy}${t.actor ? ` (${t.actor})` : ''}`,
        '',
      );
      continue;
    }
    if (record.type === 'RoutingDeferred') {
      const { reroute } = record;
      lines.push(
        `v${record.version}  ${record.recordedAt}  RoutingDeferred  held: every candidate ${reroute ? 'left ' : ''}full ` +
          `(${record.waitingFor.join(', ')}), waiting until ${record.holdUntil}, then ${record.atMaxHold.replace('_', ' ')}`,
        reroute
          ? `    re-routing (revision ${reroute.revision} of v${reroute.revises}) after ${reroute.failedProvider}` +
              `${reroute.failedModel ? `/${reroute.failedModel}` : ''} failed (dispatch ${reroute.failedDispatchId}, signal ${reroute.causedBy})`
          : `    event ${record.eventId}, submitted ${orDash(record.submittedAt)}`,
      );
    } else if (record.type === 'RoutingRevised') {
      lines.push(
        `v${record.version}  ${record.recordedAt}  RoutingRevised  revision ${record.revision} of v${record.revises}: ` +
          decisionSummary(record.decision) +
          dispatchText(record),
        `    after ${record.failedProvider}${record.failedModel ? `/${record.failedModel}` : ''} failed ` +
          `(dispatch ${record.failedDispatchId}, signal ${record.causedBy})`,
        ...heldText(record.afterHold),
      );
    } else {
      lines.push(
        `v${record.version}  ${record.recordedAt}  ${record.type}  ${decisionSummary(record)}${dispatchText(record)}`,
      );
      lines.push(`    event ${record.eventId}, submitted ${orDash(record.submittedAt)}`);
      lines.push(...heldText(record.afterHold));
    }
    record = record.type === 'RoutingRevised' ? record.decision : record;
    if (record.type === 'RoutingRejected' && record.fieldErrors.length > 0) {
      for (const error of record.fieldErrors) lines.push(`    field ${error.path}: ${error.message}`);
    }
    const explanation = record.explanation;
    if (explanation) {
      const credit =
        explanation.creditBalance === undefined
          ? 'not consulted'
          : explanation.creditBalance === null
            ? 'no credit record'
            : renderCost(explanation.creditBalance);
      lines.push(
        `    rules ${explanation.rulesVersion}, matched rule ${orDash(explanation.matchedRule)}, ` +
          `requested ${explanation.requestedProvider}, credit balance ${credit}, health: ${healthSummary(explanation.health, explanation.candidates)}`,
      );
      if (explanation.canary) {
        const { bucket, percent, rulesVersion, used } = explanation.canary;
        lines.push(
          `    canary ${rulesVersion} on ${percent}%: bucket ${bucket}, ${used ? 'decided by the canary' : 'decided by the active rules'}`,
        );
      }
      if (explanation.rulesRead)
        lines.push(`    rules read ${explanation.rulesRead}: the published rules could not be read`);
      if (record.shadow) {
        const { shadow } = record;
        lines.push(
          `    shadow ${shadow.rulesVersion} would have ${shadow.outcome === 'routed' ? `routed to ${shadow.provider}/${shadow.model}` : `rejected: ${shadow.reason}`} (not acted on)`,
        );
      }
      // The quote column only when the decision quoted its candidates (src/routing/eta.ts).
      const quoted = explanation.candidates.some((candidate) => candidate.quote);
      const table = renderTable(
        ['rule', 'candidate', 'verdict', ...(quoted ? ['eta p50/p95, cost, free'] : []), 'why'],
        explanation.candidates.map((candidate) => [
          candidate.rule,
          candidate.provider ? `${candidate.provider}/${candidate.model}` : '-',
          candidate.verdict,
          ...(quoted ? [candidate.quote ? quoteSummary(candidate.quote) : '-'] : []),
          reasonText(
            candidate.reason,
            candidate.detail,
            candidate.breaker ? `breaker ${candidate.breaker} v${candidate.healthVersion}` : undefined,
          ),
        ]),
      );
      lines.push(...table.split('\n').map((line) => `      ${line}`));
    }
    lines.push('');
  }
  // A breaker stream has no job: no user content, no Jobs row.
  if (breaker) return lines.join('\n').trimEnd();
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
    .description("a job's routing story: its routing facts, the decision and why, replays, its projection")
    .argument('<jobId>', 'the job id (or a stream id: job#…, event#…, health#…)')
    .option('--show-content', "also show the job's user content (user id, prompt, extra fields), if retained")
    .action(async (jobId: string, options: { showContent?: boolean }, command: Command) => {
      const context = contextOf(command);
      const history = await readHistory(context, jobId, { showContent: options.showContent === true });
      context.out(
        context.json ? jsonLine(historyJson(history)) : renderHistory(history, context.tables.jobs),
      );
    });
}
