/**
 * Environment configuration, validated once at cold start. A missing or malformed variable fails
 * the function's initialisation with one error that names every problem, instead of a confusing
 * failure deep inside the first invocation. Field readers shared by several functions live here
 * too, so a stage or table name means the same thing everywhere (and in template.yaml).
 *
 * Plain functions, not zod: a handful of string checks do not need a schema library in every
 * function's bundle and cold start (docs/PERFORMANCE.md, "Dependencies").
 */
import { RoutingManagerError } from '../errors.ts';
import { DEFAULT_QUEUE_MAX_MESSAGE_BYTES } from '../projections/dispatch.ts';

/** Reads a present, non-blank value: the value, or a `Problem` saying what is wrong with it. */
export type Reader<T> = (text: string) => T | Problem;

/** What is wrong with a value, as a phrase after the variable's name ("must be …"). */
export class Problem {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** One environment variable: how its text is read, and what an absent (or blank) one means. */
export interface Field<T> {
  readonly read: Reader<T>;
  /** `required`: absence is an error; otherwise the value an absent variable stands for. */
  readonly absent: 'required' | { readonly value: T };
}

export const required = <T>(read: Reader<T>): Field<T> => ({ read, absent: 'required' });
export const optional = <T>(read: Reader<T>): Field<T | undefined> => ({
  read,
  absent: { value: undefined },
});
export const withDefault = <T>(read: Reader<T>, value: T): Field<T> => ({ read, absent: { value } });

export const matching =
  (pattern: RegExp, message: string): Reader<string> =>
  (text) =>
    pattern.test(text) ? text : new Problem(message);

/** A number (an integer when `integer`) within [min, max], as `Number(text)` reads it. */
export const numberIn =
  (min: number, max: number, { integer = false }: { integer?: boolean } = {}): Reader<number> =>
  (text) => {
    const value = Number(text);
    if (Number.isNaN(value)) return new Problem('must be a number');
    if (integer && !Number.isInteger(value)) return new Problem('must be an integer');
    return value >= min && value <= max ? value : new Problem(`must be between ${min} and ${max}`);
  };

/** An absolute http(s) URL. */
export const httpUrl: Reader<string> = (text) => {
  const url = URL.parse(text);
  return url && (url.protocol === 'https:' || url.protocol === 'http:')
    ? text
    : new Problem('must be an http(s) URL');
};

/**
 * Stage names: a lower-case letter, then 1–11 lower-case letters or digits. Identical to the
 * `Stage` parameter's AllowedPattern in template.yaml (tests/unit/template-iam.unit.spec.ts checks
 * it), because the stage ends up in table, queue, function and alarm names.
 */
export const STAGE_PATTERN = /^[a-z][a-z0-9]{1,11}$/;
export const stageName = matching(STAGE_PATTERN, `must match ${STAGE_PATTERN.source}`);
/** DynamoDB table name rules: 3–255 characters of [a-zA-Z0-9_.-]. */
/** A KMS key id, key ARN, alias name or alias ARN (what KMS accepts as KeyId). */
export const kmsKeyId = matching(
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)\/[A-Za-z0-9/_+=,.@-]{1,250}|alias\/[A-Za-z0-9/_-]{1,250}|[A-Za-z0-9-]{1,128})$/,
  'must be a KMS key id, key ARN or alias',
);
export const tableName = matching(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name');

/**
 * PROVIDER_QUEUE_MAX_MESSAGE_BYTES: the provider queues' MaximumMessageSize (SQS allows 1 KiB–1 MiB).
 * The router rejects a job whose provider-queue message could not fit (`message_too_large`); the
 * projector never sends a larger one. Set it to the queues' real setting (docs/DEPLOY.md).
 */
export const queueMaxMessageBytes = withDefault(
  numberIn(1024, 1_048_576, { integer: true }),
  DEFAULT_QUEUE_MAX_MESSAGE_BYTES,
);

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

type Spec = Record<string, Field<unknown>>;
export type ConfigOf<S extends Spec> = { -readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/**
 * Reads every variable of `spec` from `env` (blank counts as absent). Missing required variables
 * are reported first and alone; otherwise every invalid one, in the spec's order.
 */
export function loadConfig<S extends Spec>(
  component: string,
  spec: S,
  env: Readonly<Record<string, string | undefined>>,
): ConfigOf<S> {
  const missing: string[] = [];
  const invalid: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) {
    const text = env[name];
    if (text === undefined || text.trim() === '') {
      if (field.absent === 'required') missing.push(name);
      else config[name] = field.absent.value;
      continue;
    }
    const value = field.read(text);
    if (value instanceof Problem) invalid.push(`${name} ${value.message}`);
    else config[name] = value;
  }
  if (missing.length > 0) throw new ConfigurationError(component, missing, []);
  if (invalid.length > 0) throw new ConfigurationError(component, [], invalid);
  return config as ConfigOf<S>;
}
