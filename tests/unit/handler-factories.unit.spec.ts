/**
 * The handler modules are factories: importing one reads no environment and creates no client, so
 * the local runner, tests and benchmarks import them normally and pass their own configuration.
 * Only the Lambda entries (src/lambda/*) wire from process.env, at init.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const HANDLER_VARIABLES = [
  'STAGE',
  'EVENT_LOG_TABLE',
  'CREDITS_TABLE',
  'CONTENT_TABLE',
  'CONTENT_KMS_KEY_ID',
  'PAYLOAD_HASH_KMS_KEY_ID',
  'EFFECTS_TABLE',
  'JOBS_TABLE',
  'FAL_QUEUE_URL',
  'REPLICATE_QUEUE_URL',
  'EVENT_BUS_NAME',
  'PROVIDER_HEALTH_TABLE',
];

afterEach(() => vi.unstubAllEnvs());

describe('handler modules', () => {
  it.each([
    ['router', 'createRouterHandler'],
    ['projector', 'createProjectorHandler'],
    ['health-signals', 'createHealthSignalsHandler'],
    ['heartbeat', 'createHeartbeatHandler'],
    ['window-closer', 'createWindowCloserHandler'],
  ])(
    'given no configuration in the environment, when src/handlers/%s.ts is imported, then it loads and exports only its factory',
    async (name, factory) => {
      for (const variable of HANDLER_VARIABLES) vi.stubEnv(variable, undefined);
      vi.resetModules();
      const module = (await import(`../../src/handlers/${name}.ts`)) as Record<string, unknown>;
      expect(typeof module[factory]).toBe('function');
      expect(module.handler).toBeUndefined();
    },
  );

  it('given no configuration in the environment, when a Lambda entry is imported, then its init fails naming the variables', async () => {
    for (const variable of HANDLER_VARIABLES) vi.stubEnv(variable, undefined);
    vi.resetModules();
    await expect(import('../../src/lambda/router.ts')).rejects.toThrow(/EVENT_LOG_TABLE/);
    await expect(import('../../src/lambda/window-closer.ts')).rejects.toThrow(/EVENT_LOG_TABLE/);
  });

  it('given its configuration, when the WindowCloser entry is imported, then it exports its handler', async () => {
    vi.stubEnv('STAGE', 'test');
    vi.stubEnv('EVENT_LOG_TABLE', 'RoutingLog-test');
    vi.stubEnv('PROVIDER_HEALTH_TABLE', 'ProviderHealth-test');
    vi.resetModules();
    const module = await import('../../src/lambda/window-closer.ts');
    expect(typeof module.handler).toBe('function');
  });
});
