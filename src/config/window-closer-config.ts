/** Environment of the WindowCloser Lambda (the scheduled closer of signal windows), validated once at init. */
import { loadConfig, required, stageName, tableName } from './load-config.ts';

const windowCloserEnvironment = {
  STAGE: required(stageName),
  EVENT_LOG_TABLE: required(tableName),
  PROVIDER_HEALTH_TABLE: required(tableName),
};

export interface WindowCloserConfig {
  /** `RoutingLog-<Stage>`: the published rules (which pairs to close) and the breakers' transitions. */
  readonly eventLogTable: string;
  /** `ProviderHealth-<Stage>`: the signal windows and the breakers. */
  readonly providerHealthTable: string;
}

export function loadWindowCloserConfig(
  env: Readonly<Record<string, string | undefined>>,
): WindowCloserConfig {
  const parsed = loadConfig('window-closer', windowCloserEnvironment, env);
  return { eventLogTable: parsed.EVENT_LOG_TABLE, providerHealthTable: parsed.PROVIDER_HEALTH_TABLE };
}
