/**
 * HealthSignals Lambda handler: the consumer of HealthSignalsQueue-<Stage> (SQS event source,
 * ReportBatchItemFailures), which HealthSignalsRule fills with `source: provider.invoker` events
 * (`provider.attempt.completed` / `provider.status.changed` / `provider.job.started`). Each message
 * body is one EventBridge event; the batch is read (src/handlers/signal-messages.ts) and handed whole
 * to HandleProviderSignals (src/commands/handle-provider-signal.ts): the breakers, the slots, the
 * jobs' streams and the signal windows, a batch at a time.
 *
 * Each message's fate is its own:
 *   - handled: deleted by the event source;
 *   - rejected (not a signal: a machine-readable reason, logged by path and counted, never quoted):
 *     deleted too — retrying cannot fix it, and the log line and `HealthSignalsRefused` metric keep
 *     it visible;
 *   - failed (a step of its own threw: DynamoDB unavailable, contention): named in
 *     `batchItemFailures`, so SQS delivers it alone again and, after the queue's maxReceiveCount,
 *     moves it to the dead-letter queue (alarmed). Its steps are idempotent, so the redelivery
 *     repeats only what did not happen; its neighbours are not retried.
 *
 * The body is the use case; the cross-cutting work is the named middlewares of
 * src/handlers/middlewares.ts plus `signalItemReports` here, the Holds function's shape.
 *
 * No side effect at import: the Lambda entry (src/lambda/health-signals.ts) wires it from
 * process.env at init; the local runner and tests pass a config of their own.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import { SqsHoldBacklog } from '../aws/sqs-hold-backlog.ts';
import {
  type HandleProviderSignalDependencies,
  type HandleProviderSignalResult,
  handleProviderSignals,
  type ProviderSignalStep,
  type SignalOutcome,
} from '../commands/handle-provider-signal.ts';
import type { HealthSignalsConfig } from '../config/health-signals-config.ts';
import { RoutingManagerError } from '../errors.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';
import {
  type CountSignalResult,
  SignalWindowCounter,
  type SignalWindowDependencies,
} from '../provider-health/window-counting.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { CachedActiveRules } from '../rules/active-rules.ts';
import { contentFreeErrors, type FailureFacts, lambdaTelemetry, respondWith } from './middlewares.ts';
import { etaReader } from './router.ts';
import { loggableEventId, readSignalMessage, type SignalRejection } from './signal-messages.ts';
import { measureJobStarted, signalReporter } from './signal-reports.ts';

/** How long the function reuses its read of the published rules (re-routing decisions). */
const RULES_CACHE_MS = 10_000;

/** What one signal changed (the local stack prints it; tests read it). */
export type HealthSignalsResponse =
  | HandleProviderSignalResult
  | { readonly outcome: 'refused'; readonly problem: string }
  /** A `provider.job.started`: measured (queue wait), changing no breaker and no slot. */
  | {
      readonly outcome: 'observed';
      readonly provider: string;
      readonly queueWaitMs: number;
      readonly window?: CountSignalResult;
    };

/** One message of a batch and its fate; `eventId` only when it looks like an id (never free text). */
export type SignalItemResult =
  | {
      readonly id: string;
      readonly eventId: string | null;
      readonly kind: 'handled';
      readonly response: HealthSignalsResponse;
    }
  | {
      readonly id: string;
      readonly eventId: string | null;
      readonly kind: 'rejected';
      readonly reason: SignalRejection;
      readonly problem: string;
      readonly paths: readonly string[];
    }
  | {
      readonly id: string;
      readonly eventId: string | null;
      readonly kind: 'failed';
      readonly failure: FailureFacts;
    };

export interface HealthSignalsHooks {
  /** Told every message's fate (the local stack reports it and reads what a signal changed). */
  readonly onItem?: (item: SignalItemResult) => void;
}

export type HealthSignalsDependencies = Omit<HandleProviderSignalDependencies, 'windows'> & {
  /** The event-time signal windows every signal is counted in; absent: none are kept. */
  readonly windows?: SignalWindowDependencies;
};

/** What the function throws when a whole batch failed: the cause's facts, never its content. */
export class SignalBatchFailedError extends RoutingManagerError {
  readonly code: string;
  constructor(failure: FailureFacts) {
    super('signal_batch_failed', `${failure.code}: ${failure.message}`);
    this.name = 'SignalBatchFailedError';
    this.code = failure.code;
  }
}

/**
 * The HealthSignals function: the batch is read and handed to HandleProviderSignals; its results are
 * reported (`signalItemReports`) and answered as SQS partial batch failures (`respondWith`).
 */
export function createHealthSignalsHandler(
  deps: HealthSignalsDependencies,
  telemetry: Telemetry,
  hooks: HealthSignalsHooks = {},
) {
  // One counter per function instance: it throttles the closing of due windows in this container.
  const { windows, ...rest } = deps;
  const commandDeps: HandleProviderSignalDependencies = {
    ...rest,
    ...(windows ? { windows: new SignalWindowCounter(windows) } : {}),
  };
  const handler = middy<SQSEvent, readonly SignalItemResult[]>()
    .use(lambdaTelemetry(telemetry, { logEvent: false })) // a body is not ours to log
    .use(
      contentFreeErrors<SQSEvent>(telemetry, {
        // Thrown on: SQS delivers the whole batch again (every step is safe to repeat).
        message: 'health signal batch failed; it will be delivered again',
        facts: (event) => ({ messages: event.Records?.length ?? 0 }),
        rethrow: (failure) => new SignalBatchFailedError(failure),
      }),
    )
    .use(respondWith(signalBatchResponseOf))
    .use(signalItemReports(telemetry, hooks))
    .handler((event) => handleSignalMessages(event.Records, commandDeps, telemetry));
  // middy types a handler by its body's result; respondWith's `after` turns it into the answer.
  return handler as unknown as MiddyfiedHandler<SQSEvent, SQSBatchResponse>;
}

/** SQS's partial batch answer: only the messages whose own effects failed are delivered again. */
export const signalBatchResponseOf = (results: readonly SignalItemResult[]): SQSBatchResponse => ({
  batchItemFailures: results
    .filter((result) => result.kind === 'failed')
    .map((result) => ({ itemIdentifier: result.id })),
});

/**
 * The use case over a batch of messages: each body read; the signals handled together, each step
 * reported as it is taken by its signal's reporter (src/handlers/signal-reports.ts).
 */
async function handleSignalMessages(
  records: readonly Pick<SQSRecord, 'messageId' | 'body'>[],
  deps: HandleProviderSignalDependencies,
  telemetry: Telemetry,
): Promise<readonly SignalItemResult[]> {
  const read = records.map((record) => ({ id: record.messageId, message: readSignalMessage(record.body) }));
  const accepted = read.flatMap(({ id, message }) => (message.ok ? [{ id, ...message }] : []));
  const reporters = accepted.map(({ event, signal }) =>
    signalReporter(event, signal.kind === 'health' ? signal.signal : null, telemetry),
  );
  const batchReporter = signalReporter({}, null, telemetry);
  const outcomes = await handleProviderSignals(
    accepted.map((a) => a.signal),
    deps,
    (step: ProviderSignalStep, index: number | null) =>
      (index === null ? batchReporter : (reporters[index] ?? batchReporter))(step),
  );
  let next = 0;
  return read.map(({ id, message }): SignalItemResult => {
    if (!message.ok) {
      const { reason, problem, paths, eventId } = message;
      return { id, eventId, kind: 'rejected', reason, problem, paths };
    }
    // The accepted messages, in order: the n-th readable message is the n-th signal handled.
    const outcome = outcomes[next++] as SignalOutcome;
    const { event } = message;
    const eventId = loggableEventId(event.id);
    if (outcome.kind === 'failed') {
      const { error } = outcome;
      const failure = {
        code: error instanceof Error ? error.name : 'Error',
        message: contentFreeMessage(error),
      };
      return { id, eventId, kind: 'failed', failure };
    }
    if (outcome.kind === 'health') return { id, eventId, kind: 'handled', response: outcome.result };
    const measured = measureJobStarted(event, telemetry);
    const response: HealthSignalsResponse =
      measured.outcome === 'refused'
        ? measured
        : { ...measured.response, ...(outcome.counted ? { window: outcome.counted } : {}) };
    return { id, eventId, kind: 'handled', response };
  });
}

/**
 * Every message's fate logged and counted, by ids and reasons only: a rejected body (its reason and
 * the paths at fault; `HealthSignalsRefused` by reason), a failed one (its error class;
 * `HealthSignalsFailed`, delivered again). What a handled signal changed was reported step by step.
 */
export function signalItemReports(
  { logger, metrics }: Telemetry,
  hooks: HealthSignalsHooks = {},
): MiddlewareObj<SQSEvent> {
  return {
    name: 'signalItemReports',
    after: (request) => {
      for (const item of request.response as readonly SignalItemResult[]) {
        if (item.kind === 'rejected') {
          logger.warn('health signal refused', {
            messageId: item.id,
            eventId: item.eventId,
            reason: item.reason,
            problem: item.problem,
            paths: item.paths,
          });
          const single = metrics.singleMetric();
          single.addDimensions({ reason: item.reason });
          single.addMetric('HealthSignalsRefused', MetricUnit.Count, 1);
        } else if (item.kind === 'failed') {
          logger.error('health signal failed; it will be delivered again', {
            messageId: item.id,
            eventId: item.eventId,
            failure: item.failure,
          });
          metrics.addMetric('HealthSignalsFailed', MetricUnit.Count, 1);
        }
        hooks.onItem?.(item);
      }
    },
  };
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
  const backlog = config.holdQueueUrl
    ? new SqsHoldBacklog(new SQSClient({}), config.holdQueueUrl)
    : undefined;
  return {
    store,
    slots: { ledger, rules, ...(backlog ? { backlog } : {}) },
    windows: {
      windows: new DynamoDbSignalWindows(client, config.providerHealthTable, { windowMs: WINDOW_MS }),
      now: Date.now,
    },
    revise: {
      // With the hold backlog, a re-routing that finds every candidate left full is held, as a first
      // decision would be; quotes are read when the rules ask for them (prefer, maxEtaSec).
      capacity: { ledger, ...(backlog ? { backlog } : {}) },
      eta: { reader: etaReader(client, config.providerHealthTable, 5) },
      log: new DynamoDbRoutingLog(client, config.eventLogTable),
      rules,
      // Read fresh: a re-routing follows a failure, exactly when health is changing.
      health: { reader: new CachedHealthReader(store, { ttlMs: 0 }), store },
    },
  };
}
