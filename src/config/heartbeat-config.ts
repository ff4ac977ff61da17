/**
 * Environment of the heartbeat Lambda, validated once per invocation so that a broken deployment
 * surfaces as a named self-check failure (and a missing heartbeat) instead of an import-time crash.
 */
import { loadConfig, required, stageName, tableName } from './load-config.ts';

/** The namespace the Admin Dashboard discovers agents by (`Agent/<Name>/Heartbeat`); IAM pins it too. */
export const HEARTBEAT_NAMESPACE = 'Agent/RoutingManager';
export const HEARTBEAT_METRIC_NAME = 'Heartbeat';

export interface HeartbeatConfig {
  /** Deployment stage (`STAGE`), e.g. `dev` or `prod`; published as the `Stage` metric dimension. */
  readonly stage: string;
  /** Name of the routing event log table (`EVENT_LOG_TABLE`) whose health the heartbeat vouches for. */
  readonly eventLogTable: string;
}

const heartbeatEnvironment = { STAGE: required(stageName), EVENT_LOG_TABLE: required(tableName) };

export function loadHeartbeatConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): HeartbeatConfig {
  const parsed = loadConfig('heartbeat', heartbeatEnvironment, env);
  return { stage: parsed.STAGE, eventLogTable: parsed.EVENT_LOG_TABLE };
}
