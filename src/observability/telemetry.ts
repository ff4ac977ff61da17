/**
 * Structured logging and metrics, one instance of each per function (Powertools for AWS Lambda).
 * Metrics are written as CloudWatch Embedded Metric Format log lines: no API call per job.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'RoutingManager';

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * `stage` becomes a default metric dimension so that stages sharing an account and region never
 * mix on the dashboard; it defaults to the function's STAGE variable.
 */
export function createTelemetry(functionName: string, stage = process.env.STAGE ?? 'unknown'): Telemetry {
  return {
    logger: new Logger({ serviceName: 'routing-manager', persistentKeys: { component: functionName } }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: 'routing-manager',
      defaultDimensions: { stage },
    }),
  };
}
