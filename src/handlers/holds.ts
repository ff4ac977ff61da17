/**
 * Holds Lambda handler: the consumer of HoldQueue-<Stage> (SQS event source, ReportBatchItemFailures).
 * Each message is a `recheck` of one held job or a `slot_freed` of one provider
 * (src/ports/hold-backlog.ts); the work is src/commands/hold-job.ts. A message that cannot be read,
 * or whose handling failed, is reported as a batch item failure: SQS delivers it again and, after
 * the queue's maxReceiveCount, moves it to the dead-letter queue (alarmed) — never dropped silently.
 * Every message is safe to handle twice.
 *
 * The body is the use case (HandleHoldMessages); the cross-cutting work is the named middlewares of
 * src/handlers/middlewares.ts plus `holdReports` here, the same factory shape as the router's.
 *
 * No side effect at import: the Lambda entry (src/lambda/holds.ts) wires it from process.env at
 * init; the local runner and tests pass dependencies of their own.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import { SqsHoldBacklog } from '../aws/sqs-hold-backlog.ts';
import {
  type HoldItemResult,
  type HoldMessageOutcome,
  handleHoldMessages,
} from '../commands/handle-hold-messages.ts';
import { endingOutcome, type HeldJobDependencies } from '../commands/hold-job.ts';
import type { HoldsConfig } from '../config/holds-config.ts';
import { RoutingManagerError } from '../errors.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { CachedActiveRules } from '../rules/active-rules.ts';
import { contentFreeErrors, type FailureFacts, lambdaTelemetry, respondWith } from './middlewares.ts';
import { etaReader } from './router.ts';

export {
  type HoldMessageOutcome,
  handleHoldMessage,
} from '../commands/handle-hold-messages.ts';

export interface HoldsHooks {
  /** Told every message handled (the local stack reports and projects what it decided). */
  readonly onHandled?: (outcome: HoldMessageOutcome) => void;
}

/** What the Holds function throws when a whole batch failed: the cause's facts, never its content. */
export class HoldBatchFailedError extends RoutingManagerError {
  readonly code: string;
  constructor(failure: FailureFacts) {
    super('hold_batch_failed', `${failure.code}: ${failure.message}`);
    this.name = 'HoldBatchFailedError';
    this.code = failure.code;
  }
}

/**
 * The Holds function: the batch is HandleHoldMessages (src/commands/handle-hold-messages.ts); its
 * results are reported (`holdReports`) and answered as SQS partial batch failures (`respondWith`).
 */
export function createHoldsHandler(deps: HeldJobDependencies, telemetry: Telemetry, hooks: HoldsHooks = {}) {
  const handler = middy<SQSEvent, readonly HoldItemResult[]>()
    .use(lambdaTelemetry(telemetry, { logEvent: false })) // ids only, but not ours to trust
    .use(
      contentFreeErrors<SQSEvent>(telemetry, {
        // Thrown on: SQS delivers the whole batch again (every message is safe to handle twice).
        message: 'hold backlog batch failed; it will be delivered again',
        facts: (event) => ({ messages: event.Records?.length ?? 0 }),
        rethrow: (failure) => new HoldBatchFailedError(failure),
      }),
    )
    .use(respondWith(batchResponseOf))
    .use(holdReports(telemetry, hooks))
    .handler((event) =>
      handleHoldMessages(
        event.Records.map((record) => ({ id: record.messageId, body: record.body })),
        deps,
      ),
    );
  // middy types a handler by its body's result; respondWith's `after` turns it into the answer.
  return handler as unknown as MiddyfiedHandler<SQSEvent, SQSBatchResponse>;
}

/** SQS's partial batch answer: every message not handled is delivered again (then dead-lettered). */
export const batchResponseOf = (results: readonly HoldItemResult[]): SQSBatchResponse => ({
  batchItemFailures: results
    .filter((result) => result.kind !== 'handled')
    .map((result) => ({ itemIdentifier: result.id })),
});

/**
 * Every message's result logged and counted: an unreadable body (ids only: the body is not echoed),
 * a failed handling, and each hold that ended — counted by how, with its hold time (the template
 * alarms on HoldTime).
 */
export function holdReports({ logger, metrics }: Telemetry, hooks: HoldsHooks = {}): MiddlewareObj<SQSEvent> {
  return {
    name: 'holdReports',
    after: (request) => {
      for (const result of request.response as readonly HoldItemResult[]) {
        if (result.kind === 'unreadable') {
          logger.error('hold backlog message unreadable', { messageId: result.id });
          metrics.addMetric('HoldMessagesUnreadable', MetricUnit.Count, 1);
        } else if (result.kind === 'failed') {
          logger.error('hold backlog message failed; it will be delivered again', {
            messageId: result.id,
            kind: result.message.kind,
            error: result.failure.message,
          });
          metrics.addMetric('HoldMessagesFailed', MetricUnit.Count, 1);
        } else {
          reportHandled(result.outcome, { logger, metrics });
          hooks.onHandled?.(result.outcome);
        }
      }
    },
  };
}

function reportHandled(
  outcome: HoldMessageOutcome,
  { logger, metrics }: Pick<Telemetry, 'logger' | 'metrics'>,
) {
  for (const record of outcome.decided) {
    const { decision, afterHold } = endingOutcome(record);
    const ended = afterHold?.ended ?? 'decided_again';
    logger.info('held job decided', {
      jobId: record.jobId,
      record: record.type,
      outcome: decision.outcome,
      provider: decision.type === 'RoutingDecided' ? decision.provider : 'none',
      reason: decision.type === 'RoutingRejected' ? decision.reason : null,
      ended,
      heldMs: afterHold?.heldMs ?? null,
    });
    const single = metrics.singleMetric();
    single.addDimensions({ outcome: decision.outcome, ended });
    single.addMetric('HeldJobsDecided', MetricUnit.Count, 1);
    single.addMetric('HoldTime', MetricUnit.Milliseconds, afterHold?.heldMs ?? 0);
  }
  if (outcome.result?.outcome === 'still_held') metrics.addMetric('HoldRechecks', MetricUnit.Count, 1);
}

/** The function's AWS adapters for a validated configuration. */
export function holdsDependencies(config: HoldsConfig): HeldJobDependencies {
  const client = createDocumentClient();
  const store = new DynamoDbProviderHealthStore(client, {
    health: config.providerHealthTable,
    log: config.eventLogTable,
  });
  return {
    log: new DynamoDbRoutingLog(client, config.eventLogTable),
    rules: new CachedActiveRules(new DynamoDbRulesLog(client, config.eventLogTable), {
      defaultTable: defaultRoutingTable,
      ttlMs: 10_000,
      now: Date.now,
    }),
    ledger: new DynamoDbSlotLedger(client, config.providerHealthTable),
    backlog: new SqsHoldBacklog(new SQSClient({}), config.holdQueueUrl),
    health: { reader: new CachedHealthReader(store, { ttlMs: 5_000 }), store },
    // A held job is decided again under its rule's `prefer` / `maxEtaSec` too (read only then).
    eta: { reader: etaReader(client, config.providerHealthTable, 5) },
    now: () => new Date(),
    recheckSec: config.holdRecheckSeconds,
  };
}
