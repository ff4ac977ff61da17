/**
 * The built CLI as an operator runs it: `npm run build`'s bundle, copied away from the project (no
 * node_modules next to it, like an installed copy), run by the project's Node and by the machine's
 * own Node when it is 20 or newer, against the emulators.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import type { LocalStack } from '../../src/local/provision.ts';
import { aProvisionedStack } from '../support/stack.ts';

const project = new URL('../..', import.meta.url).pathname;
let installed: string;
let stack: LocalStack;

/** Node binaries on PATH outside node_modules (the machine's own), if they are 20 or newer. */
function machineNodes(): string[] {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !dir.includes('node_modules'))
    .map((dir) => join(dir, 'node'))
    .filter((path, i, all) => existsSync(path) && all.indexOf(path) === i)
    .filter(
      (path) => Number(execFileSync(path, ['-p', 'process.versions.node.split(".")[0]']).toString()) >= 20,
    )
    .slice(0, 1);
}

const nodes = [process.execPath, ...machineNodes()];

function run(node: string, ...argv: string[]) {
  const result = spawnSync(node, ['--no-warnings', join(installed, 'bin', 'routing-manager.mjs'), ...argv], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  installed = mkdtempSync(join(tmpdir(), 'routing-manager-installed-'));
  mkdirSync(join(installed, 'bin'));
  execFileSync(process.execPath, [
    join(project, 'scripts', 'build-cli.mjs'),
    join(installed, 'dist', 'routing-manager.mjs'),
  ]);
  copyFileSync(join(project, 'bin', 'routing-manager.mjs'), join(installed, 'bin', 'routing-manager.mjs'));
  stack = await aProvisionedStack();
}, 120_000);

describe.each(nodes.map((node) => [execFileSync(node, ['--version']).toString().trim(), node]))(
  'the built CLI on Node %s',
  (_, node) => {
    it('given --version, when run, then it prints the package version', () => {
      expect(run(node, '--version')).toMatchObject({ code: 0, stdout: `${packageJson.version}\n` });
    });

    it('given the emulator stack, when an audit query and a history run, then they answer from its tables', () => {
      const decisions = run(
        node,
        '--stage',
        stack.stage,
        'decisions',
        '--provider',
        'fal',
        '--since',
        '1h',
        '--output',
        'json',
      );
      expect(decisions).toMatchObject({ code: 0, stdout: '' });
      const history = run(node, 'history', 'no-such-job', '--stage', stack.stage);
      expect(history.code).toBe(3);
      expect(history.stderr).toMatch(
        new RegExp(`no routing record for job no-such-job in table RoutingLog-${stack.stage}`),
      );
    });

    it('given a closed endpoint, when a command runs, then it asks whether the local stack is running', () => {
      const result = run(
        node,
        '--endpoint-url',
        'http://127.0.0.1:9',
        '--stage',
        stack.stage,
        'history',
        'j1',
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /cannot connect to http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): is the local stack running\?.*npm run local -- --keep/,
      );
    });
  },
);

describe('the launcher', () => {
  it('given a checkout that was never built and a Node without TypeScript, when run, then it says how to build', () => {
    const bare = mkdtempSync(join(tmpdir(), 'routing-manager-unbuilt-'));
    mkdirSync(join(bare, 'bin'));
    copyFileSync(join(project, 'bin', 'routing-manager.mjs'), join(bare, 'bin', 'routing-manager.mjs'));
    const result = spawnSync(
      process.execPath,
      ['--no-experimental-strip-types', join(bare, 'bin', 'routing-manager.mjs'), '--version'],
      {
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /the CLI is not built\. In the project directory run `npm ci` \(or `npm run build`\)/,
    );
  });
});
