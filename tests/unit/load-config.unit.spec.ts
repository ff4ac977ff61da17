import { describe, expect, it } from 'vitest';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { placeholderHandlerEnvironment } from '../support/quiet-handler-env.ts';

const router = (extra: Record<string, string>) =>
  loadRouterConfig({ ...placeholderHandlerEnvironment, CREDITS_TABLE: 'Credits-test', ...extra });
const projector = (extra: Record<string, string>) =>
  loadProjectorConfig({ ...placeholderHandlerEnvironment, ...extra });

describe('environment configuration', () => {
  it('given no cache or size variables, then the router uses 10 s, 5 s and 256 KiB, and no health table', () => {
    const { PROVIDER_HEALTH_TABLE: _absent, ...env } = placeholderHandlerEnvironment;
    expect(loadRouterConfig({ ...env, CREDITS_TABLE: 'Credits-test' })).toMatchObject({
      rulesCacheMs: 10_000,
      healthCacheSeconds: 5,
      queueMaxMessageBytes: 262_144,
      providerHealthTable: undefined,
    });
  });

  it('given numbers as text, then they are read as numbers; fractions only where allowed', () => {
    expect(router({ RULES_CACHE_SECONDS: '2.5', HEALTH_CACHE_SECONDS: ' 7 ' })).toMatchObject({
      rulesCacheMs: 2500,
      healthCacheSeconds: 7,
    });
    expect(() => router({ HEALTH_CACHE_SECONDS: '2.5' })).toThrow(
      /invalid environment variable\(s\): HEALTH_CACHE_SECONDS must be an integer/,
    );
  });

  it.each([
    ['not a number', { RULES_CACHE_SECONDS: 'ten' }, 'RULES_CACHE_SECONDS must be a number'],
    ['above its bound', { RULES_CACHE_SECONDS: '301' }, 'RULES_CACHE_SECONDS must be between 0 and 300'],
    ['below its bound', { PROVIDER_QUEUE_MAX_MESSAGE_BYTES: '1023' }, 'between 1024 and 1048576'],
  ])('given a number %s, then the error names the variable and the rule', (_case, env, message) => {
    expect(() => router(env)).toThrow(message);
  });

  it('given several invalid variables, then one error lists each of them in order', () => {
    expect(() => router({ STAGE: 'Prod', CREDITS_TABLE: 'x' })).toThrow(
      expect.objectContaining({
        missing: [],
        invalid: [
          'STAGE must match ^[a-z][a-z0-9]{1,11}$',
          'CREDITS_TABLE must be a valid DynamoDB table name',
        ],
      }),
    );
  });

  it.each([
    ['a non-http URL', { FAL_QUEUE_URL: 'ftp://queue.example/fal' }, 'FAL_QUEUE_URL must be an http(s) URL'],
    ['a JSON array of queues', { PROVIDER_QUEUE_URLS: '["https://q"]' }, 'must be a JSON object'],
    ['a queue that is not text', { PROVIDER_QUEUE_URLS: '{"veo":1}' }, 'queue URLs must be an http(s) URL'],
  ])('given %s, then the projector names the variable', (_case, env, message) => {
    expect(() => projector(env)).toThrow(message);
  });

  it('given a blank optional variable, then it counts as absent', () => {
    expect(projector({ EVENT_BUS_NAME: '  ', PROVIDER_QUEUE_URLS: '' })).toMatchObject({
      eventBusName: 'default',
      queueUrls: { fal: placeholderHandlerEnvironment.FAL_QUEUE_URL },
    });
  });
});
