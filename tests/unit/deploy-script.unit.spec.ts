/**
 * `npm run deploy` (scripts/deploy.sh): builds and deploys with the same config-env, passing every
 * argument on to `sam deploy`. A stand-in SAM CLI records its calls (SAM_CLI), so nothing deploys.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function deploy(args: string[], env: Record<string, string | undefined> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sam-'));
  const calls = join(dir, 'calls');
  const sam = join(dir, 'sam');
  writeFileSync(sam, `#!/usr/bin/env bash\necho "$*" >> ${JSON.stringify(calls)}\n`);
  chmodSync(sam, 0o755);
  const result = spawnSync('bash', ['scripts/deploy.sh', ...args], {
    cwd: root,
    // No AWS endpoint or credentials: the preflight's look-up of retained tables fails fast and
    // changes nothing (tests/integration/deploy-adoption.int.spec.ts runs it on the emulators).
    env: {
      ...process.env,
      SAM_CLI: sam,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      ...env,
    },
    encoding: 'utf8',
  });
  let recorded: string[] = [];
  try {
    recorded = readFileSync(calls, 'utf8').trim().split('\n');
  } catch {
    recorded = [];
  }
  return { status: result.status, stderr: result.stderr, calls: recorded };
}

// Each run starts bash, setup.sh and the Python preflight: seconds, not milliseconds, on a busy machine.
describe('npm run deploy', { timeout: 60_000 }, () => {
  it('given a config-env, builds with it and deploys with every argument given', () => {
    const { status, calls } = deploy(['--config-env', 'dev', '--no-confirm-changeset']);
    expect(status).toBe(0);
    expect(calls).toEqual(['build --config-env dev', 'deploy --config-env dev --no-confirm-changeset']);
  });

  it('accepts --config-env=<env> too', () => {
    expect(deploy(['--config-env=dev']).calls).toEqual(['build --config-env dev', 'deploy --config-env=dev']);
  });

  it('given prod with no alarm target, refuses before building (exit 2), naming the parameters', () => {
    const { status, stderr, calls } = deploy(['--config-env', 'prod']);
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /prod refuses to deploy with no alarm target: set the parameter AlarmTopicArn .* or AlarmEmail/,
    );
    expect(calls).toEqual([]);
  });

  it('given prod with an alarm target, builds and deploys with it', () => {
    const overrides = ['Stage=prod', 'AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:oncall'];
    const { status, calls } = deploy(['--config-env', 'prod', '--parameter-overrides', ...overrides]);
    expect(status).toBe(0);
    expect(calls).toEqual([
      'build --config-env prod',
      `deploy --config-env prod --parameter-overrides ${overrides.join(' ')}`,
    ]);
  });

  it('given no config-env, refuses with usage (exit 2) and runs nothing', () => {
    const { status, stderr, calls } = deploy([]);
    expect(status).toBe(2);
    expect(stderr).toContain('usage: npm run deploy -- --config-env <dev|prod>');
    expect(calls).toEqual([]);
  });
});
