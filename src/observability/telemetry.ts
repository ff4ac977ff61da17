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

export function createTelemetry(functionName: string): Telemetry {
  return {
    logger: new Logger({ serviceName: 'routing-manager', persistentKeys: { component: functionName } }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'routing-manager' }),
  };
}
