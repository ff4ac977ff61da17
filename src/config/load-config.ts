/**
 * Environment configuration, validated once at cold start. A missing or malformed variable fails
 * the function's initialisation with one error that names every problem, instead of a confusing
 * failure deep inside the first invocation. Field schemas shared by several functions live here
 * too, so a stage or table name means the same thing everywhere (and in template.yaml).
 */

import * as z from 'zod';
import { RoutingManagerError } from '../errors.ts';
import { DEFAULT_QUEUE_MAX_MESSAGE_BYTES } from '../projections/dispatch.ts';

/**
 * Stage names: a lower-case letter, then 1–11 lower-case letters or digits. Identical to the
 * `Stage` parameter's AllowedPattern in template.yaml (tests/unit/template-iam.unit.spec.ts checks
 * it), because the stage ends up in table, queue, function and alarm names.
 */
export const STAGE_PATTERN = /^[a-z][a-z0-9]{1,11}$/;
export const stageName = z.string().regex(STAGE_PATTERN, `must match ${STAGE_PATTERN.source}`);
/** DynamoDB table name rules: 3–255 characters of [a-zA-Z0-9_.-]. */
export const tableName = z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name');

/**
 * PROVIDER_QUEUE_MAX_MESSAGE_BYTES: the provider queues' MaximumMessageSize (SQS allows 1 KiB–1 MiB).
 * The router rejects a job whose provider-queue message could not fit (`message_too_large`); the
 * projector never sends a larger one. Set it to the queues' real setting (docs/DEPLOY.md).
 */
export const queueMaxMessageBytes = z.coerce
  .number()
  .int()
  .min(1024)
  .max(1_048_576)
  .default(DEFAULT_QUEUE_MAX_MESSAGE_BYTES);

export class ConfigurationError extends RoutingManagerError {
  readonly component: string;
  /** Required variables that are absent or blank. */
  readonly missing: readonly string[];
  /** Problems with variables that are present but invalid. */
  readonly invalid: readonly string[];
  constructor(component: string, missing: readonly string[], invalid: readonly string[]) {
    const parts = [
      missing.length > 0 ? `missing environment variable(s): ${missing.join(', ')}` : '',
      invalid.length > 0 ? `invalid environment variable(s): ${invalid.join('; ')}` : '',
    ].filter((part) => part !== '');
    super('invalid_configuration', `Invalid ${component} configuration: ${parts.join('; ')}`);
    this.name = 'ConfigurationError';
    this.component = component;
    this.missing = missing;
    this.invalid = invalid;
  }
}

export function loadConfig<Shape extends z.ZodRawShape>(
  component: string,
  schema: z.ZodObject<Shape>,
  env: Readonly<Record<string, string | undefined>>,
): z.output<z.ZodObject<Shape>> {
  const present: Record<string, string | undefined> = {};
  const missing: string[] = [];
  for (const [name, field] of Object.entries(schema.shape)) {
    const value = env[name]?.trim() ? env[name] : undefined;
    present[name] = value;
    if (value === undefined && !(field as z.ZodType).safeParse(undefined).success) missing.push(name);
  }
  if (missing.length > 0) throw new ConfigurationError(component, missing, []);
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(
    component,
    [],
    parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`),
  );
}
