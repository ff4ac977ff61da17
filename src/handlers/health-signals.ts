/**
 * HealthSignals Lambda handler: target of the EventBridge rule for `source: provider.invoker`,
 * `provider.attempt.completed` / `provider.status.changed`. Adapts the event into a breaker command
 * and hands it to RecordHealthSignal (src/commands/record-health-signal.ts). A malformed signal is
 * logged (paths only, never values) and dropped: retrying cannot fix it. A thrown error (DynamoDB
 * unavailable, contention) goes back to EventBridge's retry; the dedupe marker makes it safe.
 *
 * No side effect at import: the Lambda entry (src/lambda/health-signals.ts) wires it from
 * process.env at init; the local runner and tests pass a config of their own.
 */

import { createHash } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import { SqsHoldBacklog } from '../aws/sqs-hold-backlog.ts';
import {
  type RecordDispatchOutcomeResult,
  recordDispatchOutcome,
} from '../commands/record-dispatch-outcome.ts';
import { type RecordHealthSignalResult, recordHealthSignal } from '../commands/record-health-signal.ts';
import { type ReleaseSlotDependencies, releaseCompletedSlot } from '../commands/release-slot.ts';
import {
  type ReviseRoutingDependencies,
  type ReviseRoutingResult,
  reviseRouting,
} from '../commands/revise-routing.ts';
import type { HealthSignalsConfig } from '../config/health-signals-config.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import type { ProviderHealthStore } from '../ports/provider-health-store.ts';
import { errorClassKind, isProviderSideFailure } from '../provider-health/breaker.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { completedFact, startedFact, WINDOW_MS } from '../provider-health/signal-windows.ts';
import {
  JOB_STARTED_DETAIL_TYPE,
  parseHealthSignal,
  parseJobStarted,
  type SignalEvent,
} from '../provider-health/signals.ts';
import {
  type CountSignalResult,
  countSignal,
  type SignalWindowDependencies,
  ThrottledWindowCloser,
} from '../provider-health/window-counting.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { CachedActiveRules } from '../rules/active-rules.ts';

/** How long the function reuses its read of the published rules (re-routing decisions). */
const RULES_CACHE_MS = 10_000;

export type HealthSignalsResponse =
  | (RecordHealthSignalResult & {
      readonly revision?: ReviseRoutingResult;
      readonly verdict?: RecordDispatchOutcomeResult & { readonly jobId: string };
      /** Set when this terminal report freed its dispatch's slot in the provider's ledger. */
      readonly slotReleased?: string;
    })
  | { readonly outcome: 'refused'; readonly problem: string }
  /** A `provider.job.started`: measured (queue wait), changing no breaker and no slot. */
  | {
      readonly outcome: 'observed';
      readonly provider: string;
      readonly queueWaitMs: number;
      readonly window?: CountSignalResult;
    };

export interface HealthSignalsDependencies {
  readonly store: ProviderHealthStore;
  /** Re-routing of jobs whose current dispatch failed; absent: signals only feed the breakers. */
  readonly revise?: ReviseRoutingDependencies;
  /** The slot ledger a terminal attempt frees its slot in; absent: no slot is ever released. */
  readonly slots?: ReleaseSlotDependencies;
  /** The event-time signal windows every signal is counted in; absent: none are kept. */
  readonly windows?: SignalWindowDependencies;
}

export function createHealthSignalsHandler(deps: HealthSignalsDependencies, { logger, metrics }: Telemetry) {
  const windows = deps.windows ? new SignalWindowCounter(deps.windows, { logger, metrics }) : undefined;
  return middy<SignalEvent, HealthSignalsResponse>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      if (event['detail-type'] === JOB_STARTED_DETAIL_TYPE) {
        const observed = observeJobStarted(event, { logger, metrics });
        if (!windows || observed.outcome !== 'observed') return observed.response;
        const window = await windows.count(startedFact(observed.fact));
        return { ...observed.response, window };
      }
      const parsed = parseHealthSignal(event);
      if (!parsed.ok) {
        logger.warn('health signal refused', {
          eventId: typeof event.id === 'string' ? event.id : null,
          problem: parsed.problem,
          paths: parsed.paths,
        });
        metrics.addMetric('HealthSignalsRefused', MetricUnit.Count, 1);
        // The paths name the fields at fault (never their values), so a sender can fix the event.
        const where = parsed.paths.length > 0 ? `: ${parsed.paths.join(', ')}` : '';
        return { outcome: 'refused', problem: `${parsed.problem}${where}` };
      }
      const { signal } = parsed;
      const reported = signal.command.type === 'RecordAttempt' ? signal.command.errorClass : null;
      if (signal.attempt?.outcome !== 'succeeded' && errorClassKind(reported) === 'unclassified') {
        // Counted as provider-side (the safe rule, src/provider-health/breaker.ts), and made visible:
        // the class is a consumer's label (≤ 64 characters), never user content.
        logger.warn('health signal with an unclassified errorClass', {
          eventId: signal.command.signalId,
          breaker: signal.key,
          errorClass: reported,
        });
        metrics.addMetric('UnclassifiedErrorClass', MetricUnit.Count, 1);
      }
      const result = await recordHealthSignal(signal, deps);
      const facts = {
        eventId: typeof event.id === 'string' ? event.id : null,
        signalId: signal.command.signalId,
        breaker: signal.key,
        command: signal.command.type,
        outcome: result.outcome,
      };
      if (result.outcome === 'recorded' && result.transitions.length > 0) {
        for (const t of result.transitions) {
          logger.info('provider health changed', {
            ...facts,
            version: t.version,
            from: t.previousStatus,
            to: t.status,
            mode: t.mode,
            reason: t.reason,
            openUntil: t.openUntil,
          });
          metrics.addMetric('HealthTransitions', MetricUnit.Count, 1);
        }
      } else {
        logger.debug('health signal processed', facts);
      }
      if (result.outcome === 'duplicate') metrics.addMetric('HealthSignalDuplicates', MetricUnit.Count, 1);
      const { attempt } = signal;
      if (attempt) reportAttemptMeasures(attempt, metrics);
      let response: HealthSignalsResponse = result;
      // Every terminal report frees its slot, a duplicate too: the release is idempotent on its own
      // (conditional on the holder), and a first delivery that failed after the breaker may not have.
      if (deps.slots && attempt) {
        const released = await releaseCompletedSlot(attempt, deps.slots);
        if (released === 'released') {
          response = { ...result, slotReleased: attempt.provider };
          logger.info('provider slot released', {
            ...facts,
            provider: attempt.provider,
            jobId: attempt.jobId,
          });
          const single = metrics.singleMetric();
          single.addDimensions({ provider: attempt.provider });
          single.addMetric('SlotsReleased', MetricUnit.Count, 1);
        }
      }
      if (!attempt) return response;
      const errorClass = attempt.errorClass ?? null;
      const windowFacts = {
        key: signal.command.signalId,
        atMs: Date.parse(signal.command.at),
        provider: attempt.provider,
        model: signal.model,
        outcome: attempt.outcome,
        errorClass,
        runMs: attempt.runMs,
        costUsd: attempt.costUsd,
      };
      if (!deps.revise) {
        await windows?.count(completedFact(windowFacts));
        return response;
      }
      if (
        attempt.outcome === 'succeeded' ||
        (attempt.outcome === 'failed_terminal' && !isProviderSideFailure(errorClass))
      ) {
        // The job is done (completed, or failed for its own reason): recorded in its stream, so
        // replay and re-drive never pay for it again; never re-routed.
        const verdict = await recordDispatchOutcome(
          {
            ...attempt,
            attemptKey: signal.command.signalId,
            at: signal.command.at,
            model: signal.model,
            errorClass,
          },
          deps.revise,
        );
        logger.debug('dispatch outcome', { ...facts, jobId: attempt.jobId, verdict: verdict.outcome });
        await windows?.count(completedFact({ ...windowFacts, job: verdict.job }));
        return { ...response, verdict: { ...verdict, jobId: attempt.jobId } };
      }
      await windows?.count(completedFact(windowFacts));
      if (attempt.outcome !== 'failed_terminal') return response;
      // After the breaker took the failure in, so the re-decision already sees the provider's health.
      const revision = await reviseRouting(
        {
          ...attempt,
          signalId: signal.command.signalId,
          at: signal.command.at,
          model: signal.model,
          errorClass,
        },
        deps.revise,
      );
      if (revision.outcome === 'ignored') {
        logger.info('failure not re-routed', { ...facts, jobId: attempt.jobId, why: revision.why });
      } else {
        const { record } = revision;
        logger.info('job re-routed', {
          ...facts,
          jobId: attempt.jobId,
          revision: revision.outcome,
          version: record.version,
          to: record.decision.type === 'RoutingDecided' ? record.decision.provider : null,
          reason: record.decision.type === 'RoutingRejected' ? record.decision.reason : null,
        });
        if (revision.outcome === 'revised') metrics.addMetric('JobsRevised', MetricUnit.Count, 1);
      }
      return { ...response, revision };
    });
}

/**
 * `provider.job.started`: the provider began the job after `queueWaitMs` in its own queue. Recorded as
 * metrics by provider (`JobsStarted`, `QueueWaitMs`) for the dashboards; it changes no breaker and no
 * slot (the slot was taken at dispatch and is freed by the terminal report). A malformed one is
 * refused like any signal: logged by path, counted, never quoted.
 */
function observeJobStarted(
  event: SignalEvent,
  { logger, metrics }: Telemetry,
):
  | { readonly outcome: 'refused'; readonly response: HealthSignalsResponse }
  | {
      readonly outcome: 'observed';
      readonly response: HealthSignalsResponse;
      readonly fact: Parameters<typeof startedFact>[0];
    } {
  const parsed = parseJobStarted(event);
  if (!parsed.ok) {
    logger.warn('health signal refused', {
      eventId: typeof event.id === 'string' ? event.id : null,
      problem: parsed.problem,
      paths: parsed.paths,
    });
    metrics.addMetric('HealthSignalsRefused', MetricUnit.Count, 1);
    return { outcome: 'refused', response: { outcome: 'refused', problem: parsed.problem } };
  }
  const { provider, queueWaitMs, jobId, dispatchId, ts } = parsed.started;
  const single = metrics.singleMetric();
  single.addDimensions({ provider });
  single.addMetric('JobsStarted', MetricUnit.Count, 1);
  single.addMetric('QueueWaitMs', MetricUnit.Milliseconds, queueWaitMs);
  logger.debug('provider started a job', { eventId: parsed.eventId, provider, jobId, queueWaitMs });
  // The event's own time when EventBridge gives one (kept by every redelivery), else the sender's ts.
  const time = typeof event.time === 'string' && !Number.isNaN(Date.parse(event.time)) ? event.time : ts;
  return {
    outcome: 'observed',
    response: { outcome: 'observed', provider, queueWaitMs },
    fact: {
      key: startedKeyOf(dispatchId),
      atMs: Date.parse(time),
      provider,
      model: parsed.started.model ?? null,
      queueWaitMs,
    },
  };
}

/** A dispatch starts once: its start's dedupe key is the dispatchId (a re-published start counts once). */
const startedKeyOf = (dispatchId: string): string =>
  `started-${createHash('sha256').update(dispatchId).digest('hex').slice(0, 32)}`;

/**
 * Counts signals in their event-time windows and closes the pair's due windows (throttled). A late
 * signal (its window already due) is not counted: logged and counted as `LateSignals`, never silent.
 */
class SignalWindowCounter {
  readonly #deps: SignalWindowDependencies;
  readonly #closer: ThrottledWindowCloser;
  readonly #telemetry: Telemetry;

  constructor(deps: SignalWindowDependencies, telemetry: Telemetry) {
    this.#deps = deps;
    this.#closer = new ThrottledWindowCloser(deps);
    this.#telemetry = telemetry;
  }

  async count(fact: ReturnType<typeof startedFact>): Promise<CountSignalResult> {
    const { logger, metrics } = this.#telemetry;
    const result = await countSignal(fact, this.#deps);
    if (result === 'late') {
      logger.warn('signal later than its window', {
        provider: fact.pair.provider,
        model: fact.pair.model,
        windowStartMs: fact.windowStartMs,
        windowMs: WINDOW_MS,
      });
      metrics.addMetric('LateSignals', MetricUnit.Count, 1);
    }
    const closed = await this.#closer.closeDue(fact.pair);
    for (const window of closed) logger.debug('signal window closed', { window: window.id });
    if (closed.length > 0) metrics.addMetric('SignalWindowsClosed', MetricUnit.Count, closed.length);
    return result;
  }
}

/** A completion's measured run time and charge, when it reports them, as metrics by provider. */
function reportAttemptMeasures(
  attempt: { readonly provider: string; readonly runMs?: number; readonly costUsd?: number },
  metrics: Telemetry['metrics'],
) {
  if (attempt.runMs === undefined && attempt.costUsd === undefined) return;
  const single = metrics.singleMetric();
  single.addDimensions({ provider: attempt.provider });
  if (attempt.runMs !== undefined) single.addMetric('RunMs', MetricUnit.Milliseconds, attempt.runMs);
  if (attempt.costUsd !== undefined) single.addMetric('CostUsd', MetricUnit.Count, attempt.costUsd);
}

/** The function's AWS adapters for a validated configuration. */
export function healthSignalsDependencies(config: HealthSignalsConfig): HealthSignalsDependencies {
  const client = createDocumentClient();
  const store = new DynamoDbProviderHealthStore(client, {
    health: config.providerHealthTable,
    log: config.eventLogTable,
  });
  const rules = new CachedActiveRules(new DynamoDbRulesLog(client, config.eventLogTable), {
    defaultTable: defaultRoutingTable,
    ttlMs: RULES_CACHE_MS,
    now: Date.now,
  });
  const ledger = new DynamoDbSlotLedger(client, config.providerHealthTable);
  return {
    store,
    slots: {
      ledger,
      rules,
      ...(config.holdQueueUrl ? { backlog: new SqsHoldBacklog(new SQSClient({}), config.holdQueueUrl) } : {}),
    },
    windows: {
      windows: new DynamoDbSignalWindows(client, config.providerHealthTable, { windowMs: WINDOW_MS }),
      now: Date.now,
    },
    revise: {
      capacity: { ledger },
      log: new DynamoDbRoutingLog(client, config.eventLogTable),
      rules,
      // Read fresh: a re-routing follows a failure, exactly when health is changing.
      health: { reader: new CachedHealthReader(store, { ttlMs: 0 }), store },
    },
  };
}
