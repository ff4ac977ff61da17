/**
 * The built CLI as an operator runs it: `npm run build`'s bundle, copied away from the project (no
 * node_modules next to it, like an installed copy), run by the project's Node and by the machine's
 * own Node when it is 20 or newer, against the emulators.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import type { LocalStack } from '../../src/local/provision.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { eventually } from '../support/until.ts';

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
  // As an operator runs it: no --no-warnings, so a warning Node or the SDK prints would show.
  const result = spawnSync(node, [join(installed, 'bin', 'routing-manager.mjs'), ...argv], {
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
      // Nothing but the answer: no SDK version banner, no Node warning, on every command.
      expect(history.stderr).toBe(
        `routing-manager: no routing record for job no-such-job in table RoutingLog-${stack.stage}\n`,
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

/** Every file the module loads before it runs (static imports, followed), never its `import()`s. */
function staticallyLoaded(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const [, path] of text.matchAll(
    /(?:^|[;\n}])\s*(?:import|export)\s*(?:[^"'()]*?\sfrom\s*)?["'](\.[^"']+)["']/g,
  ))
    staticallyLoaded(resolve(dirname(entry), path as string), seen);
  return seen;
}

describe('the built console', () => {
  it('given the build, when any other verb starts, then none of the console (server, page, charts) is loaded', () => {
    const loaded = [...staticallyLoaded(join(installed, 'dist', 'routing-manager.mjs'))];
    expect(loaded.length).toBeGreaterThan(1);
    for (const file of loaded) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain('x-console-token');
      expect(text, file).not.toContain('Content-Security-Policy');
    }
  });

  it('given the installed copy (no sources, no esbuild), when `console` runs, then it prints a URL whose page and bundled assets it serves, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [join(installed, 'bin', 'routing-manager.mjs'), 'console', '--stage', stack.stage],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
    try {
      const url = await eventually(() => stdout.match(/^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/m)?.[0], {
        timeoutMs: 20_000,
        what: 'the console URL',
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const token = new URL(url).searchParams.get('token') as string;
      const script = await fetch(new URL(`/assets/console.js?token=${token}`, url));
      expect(script.status).toBe(200);
      expect((await script.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(new URL('/api/config', url))).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

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
