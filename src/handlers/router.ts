/**
 * Router Lambda handler: target of the EventBridge rule for `frontend.api` / `video.job.submitted`.
 * It adapts the event into the RouteJob command; the decision logic lives in src/routing and
 * src/commands. No side effect at import: the Lambda entry (src/lambda/router.ts) wires it from
 * process.env at init; the local runner, tests and benchmarks pass a config of their own. A thrown error (e.g. DynamoDB unavailable) is left to
 * EventBridge's retry policy and the rule's dead-letter queue, so nothing received is lost.
 */

import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbContentVault } from '../aws/dynamodb-content-vault.ts';
import { DynamoDbCreditBalances } from '../aws/dynamodb-credit-balances.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import { KmsKeyService } from '../aws/kms-key-service.ts';
import { SqsHoldBacklog } from '../aws/sqs-hold-backlog.ts';
import { type RouteJobDependencies, type RouteJobResult, routeJob } from '../commands/route-job.ts';
import type { RouterConfig } from '../config/router-config.ts';
import { ContentKeyRing } from '../content/content-key-ring.ts';
import { PayloadHasher } from '../content/payload-hasher.ts';
import { RoutingManagerError } from '../errors.ts';
import type { SubmittedEvent } from '../intake/submission.ts';
import type { DecisionRecord } from '../log/routing-records.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { CachedEtaReader } from '../provider-health/eta-cache.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { CachedActiveRules, type RulesSource } from '../rules/active-rules.ts';

export interface RouterResponse {
  readonly outcome: RouteJobResult['outcome'];
  readonly stream: string;
  readonly jobId: string | null;
  /** `held`: every candidate was full and the rule holds the job (a RoutingDeferred record). */
  readonly decision: 'routed' | 'rejected' | 'held';
  readonly provider: string | null;
  readonly reason: string | null;
}

/** What the router throws when routing failed: the cause's facts, never its content. */
export class RoutingFailedError extends RoutingManagerError {
  readonly code: string;
  constructor(failure: { code: string; message: string }) {
    super('routing_failed', `${failure.code}: ${failure.message}`);
    this.name = 'RoutingFailedError';
    this.code = failure.code;
  }
}

export function createRouterHandler(deps: RouteJobDependencies, { logger, metrics }: Telemetry) {
  // logEvent false: never the event (it is user content), whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  return middy<SubmittedEvent, RouterResponse>()
    .use(injectLambdaContext(logger, { logEvent: false }))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      let result: RouteJobResult;
      try {
        result = await routeJob({ type: 'RouteJob', data: { event } }, deps);
      } catch (error) {
        // Thrown on to EventBridge's retry policy, but as facts: the Lambda runtime logs the message.
        const failure = {
          code: error instanceof Error ? error.name : 'Error',
          message: contentFreeMessage(error),
        };
        logger.error('routing failed; the event will be retried', { eventId: event.id, failure });
        throw new RoutingFailedError(failure);
      }
      const { record } = result;
      const response: RouterResponse = {
        outcome: result.outcome,
        stream: record.stream,
        jobId: record.jobId,
        decision: record.outcome,
        provider: record.type === 'RoutingDecided' ? record.provider : null,
        reason: record.type === 'RoutingRejected' ? record.reason : null,
      };
      // Never the prompt or user id: user content (sealed in the log record, docs/DATA_PROTECTION.md).
      const facts = {
        ...response,
        eventId: event.id,
        model: record.type === 'RoutingDecided' ? record.model : null,
        matchedRule: record.explanation?.matchedRule ?? null,
        rulesVersion: record.explanation?.rulesVersion ?? null,
      };
      if (result.outcome === 'conflicting_duplicate') {
        // Facts only: no payload hash either (a value computed from user content).
        logger.warn('conflicting duplicate refused: jobId already decided with a different payload', facts);
        metrics.addMetric('ConflictingDuplicates', MetricUnit.Count, 1);
      } else if (result.outcome === 'duplicate') {
        logger.info('duplicate submission absorbed', facts);
        metrics.addMetric('Duplicates', MetricUnit.Count, 1);
      } else {
        // One line per decision, not two: its facts ride as properties of the decision's EMF document
        // (grouped by outcome, provider and reason on the dashboard), so Logs Insights still finds a
        // job's decision by jobId; the separate line is DEBUG (about 700 bytes a job saved).
        logger.debug('routing decision recorded', facts);
        metrics.addDimensions({
          outcome: record.outcome,
          provider: response.provider ?? 'none',
          reason: response.reason ?? 'none',
        });
        // Not the stream: it is `job#<jobId>` or `event#<eventId>` (≈ 50 bytes a decision saved,
        // CloudWatch Logs bills ingestion per byte: docs/COST.md).
        for (const key of ['jobId', 'eventId', 'model', 'matchedRule', 'rulesVersion'] as const) {
          const value = facts[key];
          if (typeof value === 'string') metrics.addMetadata(key, value);
        }
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
      }
      return response;
    });
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

/** Logs and counts a failed read of the published rules (the router keeps deciding). */
export const rulesReadFailureReporter =
  ({ logger, metrics }: Telemetry) =>
  (error: unknown, using: RulesSource) => {
    logger.error('could not read the published rules', {
      using,
      error: contentFreeMessage(error),
    });
    metrics.addMetric('RulesReadFailures', MetricUnit.Count, 1);
  };

/**
 * The ETA reader: the signal windows and the slot ledger in the health table (items `window#…`,
 * `slots#…`), cached as long as the health view.
 */
function etaReader(client: DynamoDBDocumentClient, table: string, cacheSeconds: number) {
  const ledger = new DynamoDbSlotLedger(client, table);
  const windows = new DynamoDbSignalWindows(client, table, { windowMs: WINDOW_MS });
  return new CachedEtaReader({ windows, ledger }, { ttlMs: cacheSeconds * 1000 });
}

/** The router's AWS adapters for a validated configuration. */
export function routerDependencies(
  config: RouterConfig,
  {
    table = defaultRoutingTable,
    client = createDocumentClient(),
    onRulesReadFailure,
  }: {
    table?: RoutingTable;
    client?: DynamoDBDocumentClient;
    onRulesReadFailure?: (error: unknown, using: RulesSource) => void;
  } = {},
): RouteJobDependencies {
  const healthStore = config.providerHealthTable
    ? new DynamoDbProviderHealthStore(client, {
        health: config.providerHealthTable,
        log: config.eventLogTable,
      })
    : undefined;
  const vault = new DynamoDbContentVault(client, config.contentTable);
  const kms = new KmsKeyService({
    contentKeyId: config.contentKmsKeyId,
    payloadHashKeyId: config.payloadHashKmsKeyId,
  });
  return {
    ...(healthStore
      ? {
          health: {
            reader: new CachedHealthReader(healthStore, { ttlMs: config.healthCacheSeconds * 1000 }),
            store: healthStore,
          },
        }
      : {}),
    // The slot ledger shares the health table (items slots#<provider>#<shard>); with the hold
    // backlog, a job finding every candidate full is held rather than rejected.
    ...(config.providerHealthTable
      ? {
          capacity: {
            ledger: new DynamoDbSlotLedger(client, config.providerHealthTable),
            ...(config.holdQueueUrl
              ? {
                  backlog: new SqsHoldBacklog(new SQSClient({}), config.holdQueueUrl),
                  recheckSec: config.holdRecheckSeconds,
                }
              : {}),
          },
          eta: { reader: etaReader(client, config.providerHealthTable, config.healthCacheSeconds) },
        }
      : {}),
    log: new DynamoDbRoutingLog(client, config.eventLogTable),
    credits: new DynamoDbCreditBalances(client, config.creditsTable),
    table,
    rules: new CachedActiveRules(new DynamoDbRulesLog(client, config.eventLogTable), {
      defaultTable: table,
      ttlMs: config.rulesCacheMs,
      now: Date.now,
      ...(onRulesReadFailure ? { onReadFailure: onRulesReadFailure } : {}),
    }),
    contentKeys: new ContentKeyRing(vault, kms, { stage: config.stage }),
    payloadHashes: new PayloadHasher(vault, kms, { stage: config.stage }),
    now: () => new Date(),
    newId: randomUUID,
    maxMessageBytes: config.queueMaxMessageBytes,
  };
}
