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

function deploy(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sam-'));
  const calls = join(dir, 'calls');
  const sam = join(dir, 'sam');
  writeFileSync(sam, `#!/usr/bin/env bash\necho "$*" >> ${JSON.stringify(calls)}\n`);
  chmodSync(sam, 0o755);
  const result = spawnSync('bash', ['scripts/deploy.sh', ...args], {
    cwd: root,
    env: { ...process.env, SAM_CLI: sam },
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

describe('npm run deploy', () => {
  it('given a config-env, builds with it and deploys with every argument given', () => {
    const { status, calls } = deploy(['--config-env', 'dev', '--no-confirm-changeset']);
    expect(status).toBe(0);
    expect(calls).toEqual(['build --config-env dev', 'deploy --config-env dev --no-confirm-changeset']);
  });

  it('accepts --config-env=<env> too', () => {
    expect(deploy(['--config-env=prod']).calls).toEqual([
      'build --config-env prod',
      'deploy --config-env=prod',
    ]);
  });

  it('given no config-env, refuses with usage (exit 2) and runs nothing', () => {
    const { status, stderr, calls } = deploy([]);
    expect(status).toBe(2);
    expect(stderr).toContain('usage: npm run deploy -- --config-env <dev|prod>');
    expect(calls).toEqual([]);
  });
});
