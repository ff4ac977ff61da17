/**
 * Environment of the heartbeat Lambda, validated once per invocation so that a broken deployment
 * surfaces as a named self-check failure (and a missing heartbeat) instead of an import-time crash.
 */
import { z } from 'zod';

/**
 * Stage names: lower-case letter first, then 1–11 lower-case letters or digits. Kept identical to the
 * `Stage` parameter's AllowedPattern in template.yaml (tests/unit/template-iam.unit.spec.ts checks it),
 * because the stage ends up in table, queue, function and alarm names.
 */
export const STAGE_PATTERN = /^[a-z][a-z0-9]{1,11}$/;

/** The namespace the Admin Dashboard discovers agents by (`Agent/<Name>/Heartbeat`); IAM pins it too. */
export const HEARTBEAT_NAMESPACE = 'Agent/RoutingManager';
export const HEARTBEAT_METRIC_NAME = 'Heartbeat';

export interface HeartbeatConfig {
  /** Deployment stage (`STAGE`), e.g. `dev` or `prod`; published as the `Stage` metric dimension. */
  readonly stage: string;
  /** Name of the routing event log table (`EVENT_LOG_TABLE`) whose health the heartbeat vouches for. */
  readonly eventLogTable: string;
}

export class HeartbeatConfigError extends Error {
  /** Environment variables that are missing or empty. */
  readonly missing: readonly string[];
  /** Human-readable problems with variables that are present but invalid. */
  readonly invalid: readonly string[];
  constructor(missing: readonly string[], invalid: readonly string[]) {
    const parts = [
      missing.length > 0 ? `missing environment variable(s): ${missing.join(', ')}` : '',
      invalid.length > 0 ? `invalid environment variable(s): ${invalid.join('; ')}` : '',
    ].filter((part) => part !== '');
    super(`Heartbeat configuration is invalid: ${parts.join('; ')}`);
    this.name = 'HeartbeatConfigError';
    this.missing = missing;
    this.invalid = invalid;
  }
}

const heartbeatEnvironment = z.object({
  STAGE: z.string().regex(STAGE_PATTERN, `must match ${STAGE_PATTERN.source}`),
  // DynamoDB table name rules: 3–255 characters of [a-zA-Z0-9_.-].
  EVENT_LOG_TABLE: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name'),
});

type HeartbeatVariable = keyof z.infer<typeof heartbeatEnvironment>;
const requiredVariables: readonly HeartbeatVariable[] = ['STAGE', 'EVENT_LOG_TABLE'];

export function loadHeartbeatConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): HeartbeatConfig {
  const missing = requiredVariables.filter((name) => (env[name] ?? '').trim() === '');
  if (missing.length > 0) throw new HeartbeatConfigError(missing, []);
  const parsed = heartbeatEnvironment.safeParse({ STAGE: env.STAGE, EVENT_LOG_TABLE: env.EVENT_LOG_TABLE });
  if (!parsed.success) {
    const invalid = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new HeartbeatConfigError([], invalid);
  }
  return { stage: parsed.data.STAGE, eventLogTable: parsed.data.EVENT_LOG_TABLE };
}
