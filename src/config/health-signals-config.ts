import { httpUrl, loadConfig, optional, required, stageName, tableName } from './load-config.ts';

const healthSignalsEnvironment = {
  STAGE: required(stageName),
  EVENT_LOG_TABLE: required(tableName),
  PROVIDER_HEALTH_TABLE: required(tableName),
  /** Optional: the hold backlog a freed slot wakes (`slot_freed`); without it held jobs wait for their re-check. */
  HOLD_QUEUE_URL: optional(httpUrl),
};

export interface HealthSignalsConfig {
  readonly eventLogTable: string;
  /** `ProviderHealth-<Stage>`: breakers' working state and signal dedupe markers. */
  readonly providerHealthTable: string;
  readonly holdQueueUrl: string | undefined;
}

export function loadHealthSignalsConfig(
  env: Readonly<Record<string, string | undefined>>,
): HealthSignalsConfig {
  const parsed = loadConfig('health-signals', healthSignalsEnvironment, env);
  return {
    eventLogTable: parsed.EVENT_LOG_TABLE,
    providerHealthTable: parsed.PROVIDER_HEALTH_TABLE,
    holdQueueUrl: parsed.HOLD_QUEUE_URL,
  };
}
