/**
 * The handlers' named middlewares (middy's shape: objects with `before` / `after` / `onError`), so a
 * handler body is its use case only: the cross-cutting work — Powertools' context and metrics, the
 * content-free error a Lambda throws, the metrics a decision is counted by, the response the
 * function answers with — is stated once here, by name, and composed with `.use()`.
 *
 * middy runs `after` and `onError` in the reverse order of `use`: a middleware used later sees the
 * use case's result first. So `respondWith` is used before the middlewares that read the result, and
 * `lambdaTelemetry` first of all (its `after` publishes what the others counted).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { RouteJobResult } from '../commands/route-job.ts';
import type { SubmittedEvent } from '../intake/submission.ts';
import type { DecisionRecord } from '../log/routing-records.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import type { Telemetry } from '../observability/telemetry.ts';

/** A thrown value as facts: its class and a message that quotes no user content. */
export interface FailureFacts {
  readonly code: string;
  readonly message: string;
}

/**
 * Powertools' Lambda context in every log line and, when the function counts anything, its metrics
 * flushed as one EMF document per invocation (on success and on error). `logEvent: false` keeps the
 * event out of the logs whatever POWERTOOLS_LOGGER_LOG_EVENT says (for events that hold user content).
 */
export function lambdaTelemetry(
  { logger, metrics }: { readonly logger: Telemetry['logger']; readonly metrics?: Telemetry['metrics'] },
  options: { readonly logEvent?: false } = {},
): MiddlewareObj[] {
  const context = injectLambdaContext(logger, ...('logEvent' in options ? [{ logEvent: false }] : []));
  return metrics ? [context, logMetrics(metrics)] : [context];
}

/**
 * A failure leaves the function as facts: logged once at ERROR with `facts(event)` (ids, never the
 * payload) and thrown on as `rethrow(failure)`, a typed error whose message is the failure's class
 * and content-free message — the Lambda runtime logs what is thrown, so it must quote nothing.
 */
export function contentFreeErrors<TEvent>(
  { logger }: Pick<Telemetry, 'logger'>,
  options: {
    readonly message: string;
    readonly facts: (event: TEvent) => Record<string, unknown>;
    readonly rethrow: (failure: FailureFacts) => Error;
  },
): MiddlewareObj<TEvent> {
  return {
    name: 'contentFreeErrors',
    onError: (request) => {
      const error = request.error;
      const failure: FailureFacts = {
        code: error instanceof Error ? error.name : 'Error',
        message: contentFreeMessage(error),
      };
      logger.error(options.message, { ...options.facts(request.event), failure });
      request.error = options.rethrow(failure);
    },
  };
}

/**
 * The function's answer, shaped from the use case's result after every middleware that reads the
 * result has run (use it before them).
 */
export function respondWith<TEvent, TResult, TResponse>(
  shape: (result: TResult) => TResponse,
): MiddlewareObj<TEvent> {
  return {
    name: 'respondWith',
    after: (request) => {
      request.response = shape(request.response as TResult);
    },
  };
}

/** The router's answer: the decision's facts (EventBridge discards it; the local runner prints it). */
export interface RouterResponse {
  readonly outcome: RouteJobResult['outcome'];
  readonly stream: string;
  readonly jobId: string | null;
  /** `held`: every candidate was full and the rule holds the job (a RoutingDeferred record). */
  readonly decision: 'routed' | 'rejected' | 'held';
  readonly provider: string | null;
  readonly reason: string | null;
}

export function routerResponse({ outcome, record }: RouteJobResult): RouterResponse {
  return {
    outcome,
    stream: record.stream,
    jobId: record.jobId,
    decision: record.outcome,
    provider: record.type === 'RoutingDecided' ? record.provider : null,
    reason: record.type === 'RoutingRejected' ? record.reason : null,
  };
}

/**
 * Every RouteJob result logged and counted: a duplicate or conflicting duplicate by its own count
 * and line; a new decision as one EMF document grouped by outcome, provider and reason, whose
 * properties carry its key and rules version (so Logs Insights still finds a job's decision by jobId
 * without a second line: about 700 bytes a job saved), plus the rules' and capacity's metrics.
 * Never the prompt or user id (user content, sealed in the record: docs/DATA_PROTECTION.md).
 */
export function decisionMetrics({ logger, metrics }: Telemetry): MiddlewareObj<SubmittedEvent> {
  return {
    name: 'decisionMetrics',
    after: (request) => {
      const result = request.response as RouteJobResult;
      const { record } = result;
      const response = routerResponse(result);
      const facts = {
        ...response,
        eventId: request.event.id,
        model: record.type === 'RoutingDecided' ? record.model : null,
        matchedRule: record.explanation?.matchedRule ?? null,
        rulesVersion: record.explanation?.rulesVersion ?? null,
      };
      if (result.outcome === 'conflicting_duplicate') {
        // Facts only: no payload hash either (a value computed from user content).
        logger.warn('conflicting duplicate refused: jobId already decided with a different payload', facts);
        metrics.addMetric('ConflictingDuplicates', MetricUnit.Count, 1);
        return;
      }
      if (result.outcome === 'duplicate') {
        // A redelivery (EventBridge delivers at least once) is normal: counted, its key on the
        // metric's own EMF line — no log line of its own (ingestion is billed per byte).
        logger.debug('duplicate submission absorbed', facts);
        for (const [key, value] of decisionLineFacts(facts)) metrics.addMetadata(key, value);
        metrics.addMetric('Duplicates', MetricUnit.Count, 1);
        return;
      }
      logger.debug('routing decision recorded', facts);
      metrics.addDimensions({
        outcome: record.outcome,
        provider: response.provider ?? 'none',
        reason: response.reason ?? 'none',
      });
      for (const [key, value] of decisionLineFacts(facts)) metrics.addMetadata(key, value);
      metrics.addMetric('Decisions', MetricUnit.Count, 1);
      if (record.type === 'RoutingDeferred') {
        // Held for a slot: counted per provider it waits for (the hold time comes when it ends).
        for (const provider of record.waitingFor) {
          const held = metrics.singleMetric();
          held.addDimensions({ provider });
          held.addMetric('JobsHeld', MetricUnit.Count, 1);
        }
      } else reportRules(record, { logger, metrics });
      // Capacity: which providers were full for this job (their ledger refused a slot), by provider.
      for (const provider of record.explanation?.capacity?.full ?? []) {
        const full = metrics.singleMetric();
        full.addDimensions({ provider });
        full.addMetric('ProviderFull', MetricUnit.Count, 1);
      }
    },
  };
}

/**
 * What the decision's (or duplicate's) EMF line carries besides its dimensions (outcome, provider,
 * reason): the key the decision is stored under — jobId, or eventId for an event without one, i.e.
 * the stream `job#<jobId>` / `event#<eventId>`. Nothing more, because CloudWatch Logs bills
 * ingestion per byte and this line is written once per job (docs/COST.md): the rules version, the
 * model, the matched rule, the eventId of a job and the whole explanation are in the decision
 * record, one `routing-manager history <jobId>` away (and `decisions --json` lists a window's with
 * their rules version). Never user content (prompt, userId).
 */
export function decisionLineFacts(facts: {
  readonly jobId: string | null;
  /** As received: an event that fails validation may carry anything there. */
  readonly eventId: unknown;
}): ReadonlyArray<readonly [string, string]> {
  if (facts.jobId !== null) return [['jobId', facts.jobId]];
  return typeof facts.eventId === 'string' ? [['eventId', facts.eventId]] : [];
}

/**
 * Rules metrics, each its own EMF document so its dimensions do not mix with the decision's:
 * the shadow's agreement (Average = agreement rate), its moves (from → to) and cost delta — never
 * counted as cost — and the canary's decisions and rejections (the template alarms on the latter).
 */
function reportRules(record: DecisionRecord, { logger, metrics }: Telemetry) {
  const { shadow } = record;
  if (shadow) {
    const actual =
      record.type === 'RoutingDecided' ? `${record.provider}/${record.model}` : `rejected:${record.reason}`;
    const candidate =
      shadow.outcome === 'routed' ? `${shadow.provider}/${shadow.model}` : `rejected:${shadow.reason}`;
    const agreement = metrics.singleMetric();
    agreement.addMetric('ShadowAgreement', MetricUnit.Count, actual === candidate ? 1 : 0);
    const actualCost = record.type === 'RoutingDecided' ? record.estimatedCost : 0;
    // A cost that is not computable has no delta: the metric is left out rather than made up.
    if (actualCost !== null && shadow.estimatedCost !== null) {
      agreement.addMetric('ShadowCostDelta', MetricUnit.Count, shadow.estimatedCost - actualCost);
    }
    if (actual !== candidate) {
      const move = metrics.singleMetric();
      move.addDimensions({ from: actual, to: candidate });
      move.addMetric('ShadowMoves', MetricUnit.Count, 1);
    }
  }
  const canary = record.explanation?.canary;
  if (canary?.used) {
    const single = metrics.singleMetric();
    single.addMetric('CanaryDecisions', MetricUnit.Count, 1);
    single.addMetric('CanaryRejections', MetricUnit.Count, record.outcome === 'rejected' ? 1 : 0);
  }
  const rulesRead = record.explanation?.rulesRead;
  if (rulesRead) logger.warn('decided without a fresh read of the rules', { rulesRead, jobId: record.jobId });
}
