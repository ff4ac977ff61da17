/**
 * Quiet telemetry for tests that run handlers, and a placeholder configuration for the few tests
 * that import a Lambda entry (src/lambda/*, which wires itself from the environment at import, as
 * at a cold start: apply it via vi.hoisted before that import). The handler factories
 * (src/handlers/*) need neither: tests pass them their own dependencies.
 */
import { vi } from 'vitest';

export const placeholderHandlerEnvironment: Record<string, string> = {
  STAGE: 'test',
  EVENT_LOG_TABLE: 'RoutingLog-test',
  EFFECTS_TABLE: 'RoutingEffects-test',
  CONTENT_TABLE: 'RoutingContent-test',
  CONTENT_KMS_KEY_ID: 'alias/routing-manager-content-test',
  PAYLOAD_HASH_KMS_KEY_ID: 'alias/routing-manager-payload-hash-test',
  JOBS_TABLE: 'Jobs-test',
  CREDITS_TABLE: 'Credits-test',
  PROVIDER_HEALTH_TABLE: 'ProviderHealth-test',
  FAL_QUEUE_URL: 'http://localhost:1/000000000000/FalJobQueue-test',
  REPLICATE_QUEUE_URL: 'http://localhost:1/000000000000/ReplicateJobQueue-test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/** Powertools' logger and metrics off, unless a test asked for them. */
export function quietHandlerTelemetry(): void {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}

export function applyPlaceholderHandlerEnvironment(): void {
  for (const [name, value] of Object.entries(placeholderHandlerEnvironment)) process.env[name] ??= value;
}

/**
 * For tests that run the real handlers: their Powertools logger and metrics write through their
 * own Console, so silence them (and the console) for the rest of the file.
 */
export function silenceHandlerTelemetry(): void {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  for (const method of ['info', 'warn', 'log', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(() => undefined);
  }
}
