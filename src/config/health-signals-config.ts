import * as z from 'zod';
import { loadConfig, stageName, tableName } from './load-config.ts';

const healthSignalsEnvironment = z.object({
  STAGE: stageName,
  EVENT_LOG_TABLE: tableName,
  PROVIDER_HEALTH_TABLE: tableName,
});

export interface HealthSignalsConfig {
  readonly stage: string;
  readonly eventLogTable: string;
  /** `ProviderHealth-<Stage>`: breakers' working state and signal dedupe markers. */
  readonly providerHealthTable: string;
}

export function loadHealthSignalsConfig(
  env: Readonly<Record<string, string | undefined>>,
): HealthSignalsConfig {
  const parsed = loadConfig('health-signals', healthSignalsEnvironment, env);
  return {
    stage: parsed.STAGE,
    eventLogTable: parsed.EVENT_LOG_TABLE,
    providerHealthTable: parsed.PROVIDER_HEALTH_TABLE,
  };
}
