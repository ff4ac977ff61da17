import { httpUrl, loadConfig, numberIn, required, stageName, tableName, withDefault } from './load-config.ts';

const holdsEnvironment = {
  STAGE: required(stageName),
  EVENT_LOG_TABLE: required(tableName),
  /** `ProviderHealth-<Stage>`: the slot ledger and its waiting lines. */
  PROVIDER_HEALTH_TABLE: required(tableName),
  /** HoldQueue-<Stage>: where a still-held job's next re-check is sent. */
  HOLD_QUEUE_URL: required(httpUrl),
  /** The bounded wait between checks of a held job (default 30 s; SQS delays at most 900). */
  HOLD_RECHECK_SECONDS: withDefault(numberIn(1, 900, { integer: true }), 30),
};

export interface HoldsConfig {
  readonly eventLogTable: string;
  readonly providerHealthTable: string;
  readonly holdQueueUrl: string;
  readonly holdRecheckSeconds: number;
}

export function loadHoldsConfig(env: Readonly<Record<string, string | undefined>>): HoldsConfig {
  const parsed = loadConfig('holds', holdsEnvironment, env);
  return {
    eventLogTable: parsed.EVENT_LOG_TABLE,
    providerHealthTable: parsed.PROVIDER_HEALTH_TABLE,
    holdQueueUrl: parsed.HOLD_QUEUE_URL,
    holdRecheckSeconds: parsed.HOLD_RECHECK_SECONDS,
  };
}
