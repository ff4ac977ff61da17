/**
 * Router Lambda handler: target of the EventBridge rule for `frontend.api` / `video.job.submitted`.
 * It adapts the event into the RouteJob command; the decision logic lives in src/routing and
 * src/commands. No side effect at import: the Lambda entry (src/lambda/router.ts) wires it from
 * process.env at init; the local runner, tests and benchmarks pass a config of their own. A thrown error (e.g. DynamoDB unavailable) is left to
 * EventBridge's retry policy and the rule's dead-letter queue, so nothing received is lost.
 */

import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy, { type MiddyfiedHandler } from '@middy/core';
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
import { contentFreeMessage } from '../observability/content-free-message.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { CachedEtaReader } from '../provider-health/eta-cache.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { CachedActiveRules, type RulesSource } from '../rules/active-rules.ts';
import {
  contentFreeErrors,
  decisionMetrics,
  type FailureFacts,
  lambdaTelemetry,
  type RouterResponse,
  respondWith,
  routerResponse,
} from './middlewares.ts';

export type { RouterResponse } from './middlewares.ts';

/** What the router throws when routing failed: the cause's facts, never its content. */
export class RoutingFailedError extends RoutingManagerError {
  readonly code: string;
  constructor(failure: FailureFacts) {
    super('routing_failed', `${failure.code}: ${failure.message}`);
    this.name = 'RoutingFailedError';
    this.code = failure.code;
  }
}

/** The router: a submitted event is a RouteJob command; everything else is a named middleware. */
export function createRouterHandler(deps: RouteJobDependencies, telemetry: Telemetry) {
  const handler = middy<SubmittedEvent, RouteJobResult>()
    .use(lambdaTelemetry(telemetry, { logEvent: false })) // never the event: it is user content
    .use(
      contentFreeErrors<SubmittedEvent>(telemetry, {
        // Thrown on to EventBridge's retry policy, as facts: the Lambda runtime logs the message.
        message: 'routing failed; the event will be retried',
        facts: (event) => ({ eventId: event.id }),
        rethrow: (failure) => new RoutingFailedError(failure),
      }),
    )
    .use(respondWith(routerResponse))
    .use(decisionMetrics(telemetry))
    .handler((event) => routeJob({ type: 'RouteJob', data: { event } }, deps));
  // middy types a handler by its body's result; respondWith's `after` turns it into the answer.
  return handler as unknown as MiddyfiedHandler<SubmittedEvent, RouterResponse>;
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
export function etaReader(client: DynamoDBDocumentClient, table: string, cacheSeconds: number) {
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
