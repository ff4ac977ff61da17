/**
 * Holds Lambda handler: the consumer of HoldQueue-<Stage> (SQS event source, ReportBatchItemFailures).
 * Each message is a `recheck` of one held job or a `slot_freed` of one provider
 * (src/ports/hold-backlog.ts); the work is src/commands/hold-job.ts. A message that cannot be read,
 * or whose handling failed, is reported as a batch item failure: SQS delivers it again and, after
 * the queue's maxReceiveCount, moves it to the dead-letter queue (alarmed) — never dropped silently.
 * Every message is safe to handle twice.
 *
 * No side effect at import: the Lambda entry (src/lambda/holds.ts) wires it from process.env at
 * init; the local runner and tests pass dependencies of their own.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import { SqsHoldBacklog } from '../aws/sqs-hold-backlog.ts';
import {
  type DrainResult,
  drainWaitingLine,
  type HeldJobDependencies,
  type HeldJobResult,
  recheckHeldJob,
} from '../commands/hold-job.ts';
import type { HoldsConfig } from '../config/holds-config.ts';
import type { DecisionRecord } from '../log/routing-records.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { type HoldMessage, holdMessageOf } from '../ports/hold-backlog.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { CachedActiveRules } from '../rules/active-rules.ts';

/** What one backlog message led to: the held jobs it decided (routed or rejected). */
export interface HoldMessageOutcome {
  readonly message: HoldMessage;
  readonly decided: readonly DecisionRecord[];
  /** A `recheck`: the job's own result. */
  readonly result?: HeldJobResult;
}

export interface HoldsHooks {
  /** Told every message handled (the local stack reports and projects what it decided). */
  readonly onHandled?: (outcome: HoldMessageOutcome) => void;
}

/** Handles one backlog message: decides what it wakes, oldest first. */
export async function handleHoldMessage(
  message: HoldMessage,
  deps: HeldJobDependencies,
): Promise<HoldMessageOutcome> {
  if (message.kind === 'slot_freed') {
    const drained = await drainWaitingLine(message.provider, deps);
    return { message, decided: drained.decided };
  }
  const { drained, result } = await recheckHeldJob(message.jobId, deps);
  const decided = decidedIn(drained);
  if (result.outcome === 'decided' && !decided.includes(result.record)) decided.push(result.record);
  return { message, decided, result };
}

const decidedIn = (drained: readonly DrainResult[]): DecisionRecord[] => drained.flatMap((d) => d.decided);

export function createHoldsHandler(deps: HeldJobDependencies, telemetry: Telemetry, hooks: HoldsHooks = {}) {
  const { logger, metrics } = telemetry;
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { logEvent: false }))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      const failed: string[] = [];
      for (const record of event.Records) {
        const message = holdMessageOf(record.body);
        if (!message) {
          // Ids only ever: the body is not echoed (it is not ours to trust).
          logger.error('hold backlog message unreadable', { messageId: record.messageId });
          metrics.addMetric('HoldMessagesUnreadable', MetricUnit.Count, 1);
          failed.push(record.messageId);
          continue;
        }
        try {
          const outcome = await handleHoldMessage(message, deps);
          report(outcome, telemetry);
          hooks.onHandled?.(outcome);
        } catch (error) {
          logger.error('hold backlog message failed; it will be delivered again', {
            messageId: record.messageId,
            kind: message.kind,
            error: contentFreeMessage(error),
          });
          metrics.addMetric('HoldMessagesFailed', MetricUnit.Count, 1);
          failed.push(record.messageId);
        }
      }
      return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

/** Each hold that ended: counted by how, and its hold time (the template alarms on HoldTime). */
function report(outcome: HoldMessageOutcome, { logger, metrics }: Telemetry) {
  for (const record of outcome.decided) {
    const provider = record.type === 'RoutingDecided' ? record.data.provider : 'none';
    const ended = record.data.afterHold?.ended ?? 'decided_again';
    logger.info('held job decided', {
      jobId: record.metadata.jobId,
      outcome: record.data.outcome,
      provider,
      reason: record.type === 'RoutingRejected' ? record.data.reason : null,
      ended,
      heldMs: record.data.afterHold?.heldMs ?? null,
    });
    const single = metrics.singleMetric();
    single.addDimensions({ outcome: record.data.outcome, ended });
    single.addMetric('HeldJobsDecided', MetricUnit.Count, 1);
    single.addMetric('HoldTime', MetricUnit.Milliseconds, record.data.afterHold?.heldMs ?? 0);
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
    now: () => new Date(),
    recheckSec: config.holdRecheckSeconds,
  };
}
