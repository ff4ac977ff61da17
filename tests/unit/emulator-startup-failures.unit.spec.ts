/**
 * How startEmulators fails when an emulator cannot start. Real processes, but stand-ins for the
 * emulators: an install root whose `moto_server` is a shell script that ignores SIGTERM, and a PATH
 * whose `java` fails at once (or holds no java at all).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EmulatorNotInstalledError,
  EmulatorStartTimeoutError,
  startEmulators,
} from '../../src/local/emulators.ts';

function anExecutable(path: string, script: string): void {
  writeFileSync(path, script);
  chmodSync(path, 0o755);
}

/** An install root with a (corrupt) DynamoDB Local jar and, unless told otherwise, a moto_server. */
function anInstallRoot(options: { withMoto?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'emulators-'));
  const ddbDir = join(root, '.emulators', 'dynamodb-local');
  mkdirSync(ddbDir, { recursive: true });
  writeFileSync(join(ddbDir, 'DynamoDBLocal.jar'), 'not a jar');
  const motoBin = join(root, '.venv', 'bin', 'moto_server');
  const pidFile = join(root, 'moto.pid');
  if (options.withMoto !== false) {
    mkdirSync(join(root, '.venv', 'bin'), { recursive: true });
    // Never answers HTTP and survives SIGTERM: only the SIGKILL after the grace period stops it.
    anExecutable(motoBin, `#!/bin/sh\ntrap '' TERM\necho $$ > '${pidFile}'\nexec /bin/sleep 30\n`);
  }
  return { root, motoBin, motoPid: () => Number(readFileSync(pidFile, 'utf8')) };
}

/** A PATH holding only a `java` that fails like the real one does on a corrupt jar. */
function aPathWithFailingJava(): string {
  const bin = mkdtempSync(join(tmpdir(), 'fake-java-'));
  anExecutable(join(bin, 'java'), '#!/bin/sh\necho "Error: Invalid or corrupt jarfile" >&2\nexit 1\n');
  return bin;
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('starting the local emulators: failures', () => {
  it('given DynamoDB Local installed but not moto, when starting, then it fails naming the missing moto_server', async () => {
    const { root, motoBin } = anInstallRoot({ withMoto: false });

    const starting = startEmulators({ installRoot: root });

    await expect(starting).rejects.toBeInstanceOf(EmulatorNotInstalledError);
    await expect(starting).rejects.toMatchObject({ path: motoBin });
  });

  it('given DynamoDB Local exits during startup, when starting, then it fails at once with its output and kills a moto that ignores SIGTERM', {
    timeout: 15_000,
  }, async () => {
    const { root, motoPid } = anInstallRoot();
    vi.stubEnv('PATH', aPathWithFailingJava());

    // The timeout is far beyond the test's own: only an early exit can make this fail in time.
    const starting = startEmulators({ installRoot: root, timeoutMs: 60_000, stopGraceMs: 50 });

    await expect(starting).rejects.toBeInstanceOf(EmulatorStartTimeoutError);
    await expect(starting).rejects.toMatchObject({
      emulator: 'DynamoDB Local',
      message: expect.stringContaining('Invalid or corrupt jarfile'),
    });
    expect(isRunning(motoPid())).toBe(false);
  });

  it('given no java on the PATH, when starting, then it fails with the spawn error instead of crashing the process', {
    timeout: 15_000,
  }, async () => {
    const { root, motoPid } = anInstallRoot();
    vi.stubEnv('PATH', mkdtempSync(join(tmpdir(), 'no-java-')));

    const starting = startEmulators({ installRoot: root, timeoutMs: 60_000, stopGraceMs: 50 });

    await expect(starting).rejects.toMatchObject({
      name: 'EmulatorStartTimeoutError',
      emulator: 'DynamoDB Local',
      message: expect.stringContaining('spawn java ENOENT'),
    });
    expect(isRunning(motoPid())).toBe(false);
  });
});
