import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EmulatorNotInstalledError,
  EmulatorStartTimeoutError,
  emulatorEnvironment,
  startEmulators,
} from '../../src/local/emulators.ts';

describe('starting the local emulators', () => {
  it('given a tree where setup has not run, when starting, then it says to run scripts/setup.sh', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-emulators-'));
    await expect(startEmulators({ installRoot: empty })).rejects.toThrow(EmulatorNotInstalledError);
    await expect(startEmulators({ installRoot: empty })).rejects.toThrow(/scripts\/setup\.sh/);
  });

  it('given no time to start, when starting, then it fails with a timeout and leaves no process behind', async () => {
    await expect(startEmulators({ timeoutMs: 0 })).rejects.toThrow(EmulatorStartTimeoutError);
  });

  it('given the installed emulators, when started, then both answer on loopback and stop cleanly', async () => {
    const emulators = await startEmulators();
    try {
      expect(emulators.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const env = emulatorEnvironment(emulators.endpoints);
      expect(env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS).toBe(emulators.endpoints.dynamodb);
      expect(env.AWS_ENDPOINT_URL_SQS).toBe(emulators.endpoints.moto);
      expect((await fetch(`${emulators.endpoints.moto}/moto-api/`)).ok).toBe(true);
    } finally {
      await emulators.stop();
    }
    await expect(fetch(emulators.endpoints.dynamodb)).rejects.toThrow();
  });
});
