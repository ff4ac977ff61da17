/**
 * HealthSignals Lambda: target of the EventBridge rule for `source: provider.invoker`,
 * `provider.attempt.completed` / `provider.status.changed`. Adapts the event into a breaker command
 * and hands it to RecordHealthSignal (src/commands/record-health-signal.ts). A malformed signal is
 * logged (paths only, never values) and dropped: retrying cannot fix it. A thrown error (DynamoDB
 * unavailable, contention) goes back to EventBridge's retry; the dedupe marker makes it safe.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health.ts';
import { type RecordHealthSignalResult, recordHealthSignal } from '../commands/record-health-signal.ts';
import { loadHealthSignalsConfig } from '../config/health-signals-config.ts';
import { createTelemetry, type Telemetry } from '../observability/telemetry.ts';
import type { ProviderHealthStore } from '../provider-health/health-store.ts';
import { parseHealthSignal, type SignalEvent } from '../provider-health/signals.ts';

export type HealthSignalsResponse =
  | RecordHealthSignalResult
  | { readonly outcome: 'refused'; readonly problem: string };

export function createHealthSignalsHandler(
  deps: { store: ProviderHealthStore },
  { logger, metrics }: Telemetry,
) {
  return middy<SignalEvent, HealthSignalsResponse>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      const parsed = parseHealthSignal(event);
      if (!parsed.ok) {
        logger.warn('health signal refused', {
          eventId: typeof event.id === 'string' ? event.id : null,
          problem: parsed.problem,
          paths: parsed.paths,
        });
        metrics.addMetric('HealthSignalsRefused', MetricUnit.Count, 1);
        return { outcome: 'refused', problem: parsed.problem };
      }
      const { signal } = parsed;
      const result = await recordHealthSignal(signal, deps);
      const facts = {
        eventId: signal.command.signalId,
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
      return result;
    });
}

export function healthSignalsDependenciesFromEnvironment(env: Readonly<Record<string, string | undefined>>) {
  const config = loadHealthSignalsConfig(env);
  return {
    store: new DynamoDbProviderHealthStore(createDocumentClient(), {
      health: config.providerHealthTable,
      log: config.eventLogTable,
    }),
  };
}

export const handler = createHealthSignalsHandler(
  healthSignalsDependenciesFromEnvironment(process.env),
  createTelemetry('health-signals'),
);
