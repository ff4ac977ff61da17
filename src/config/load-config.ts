/**
 * Environment configuration, validated once at cold start. A missing or malformed variable fails
 * the function's initialisation with one error that names every problem, instead of a confusing
 * failure deep inside the first invocation.
 */
import type { z } from 'zod';

export class ConfigurationError extends Error {
  readonly problems: readonly string[];
  constructor(component: string, problems: readonly string[]) {
    super(`Invalid ${component} configuration: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
    this.problems = problems;
  }
}

export function loadConfig<S extends z.ZodType>(
  component: string,
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(
    component,
    parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
  );
}
