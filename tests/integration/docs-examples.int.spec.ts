/**
 * Every documented example runs as written: the commands and example files of README.md and
 * docs/*.md, extracted from the markdown by tests/support/doc-examples.ts (whose header, and
 * docs/ARCHITECTURE.md#documented-examples, state how examples are marked: fenced `bash`/`console`
 * blocks and inline `routing-manager …` / `npm run local …` spans run; `<!-- example: skip REASON -->`,
 * `<!-- example: file NAME -->` and `<!-- example: exit N -->` before a block say otherwise).
 *
 * How they run, as a reader would in two terminals: `npm run local -- --keep --stage prod` (the
 * local main, in-process on the suite's emulators; `prod` because the docs' transcripts name it)
 * is terminal 1, and its printed `export` lines are terminal 2's environment. There:
 * - `routing-manager …`, `npx routing-manager …` and `npm run -s cli -- …` run the CLI in-process
 *   (runCli), with a trailing `> FILE` written to the working directory;
 * - `npm run local …` runs the local main in-process on the suite's emulators, under a stage of its
 *   own (so runs never share tables); `npm run local -- --keep` is terminal 1 itself;
 * - `routing-manager console …` serves until interrupted, so it is not run here (its own tests
 *   start and stop it);
 * - anything else (`mkdir`, a heredoc, `alias`) runs in bash; `NAME=value` lines set variables.
 * The working directory is a temporary one holding `events/` and the doc's example files; `/tmp/…`
 * paths are moved under it so parallel runs never share files. The same command text runs once. The
 * live stack routes asynchronously, so a command answering "not found" (exit 3) is asked again for
 * up to 15 s before its answer counts. `DOCS_EXAMPLES_TRACE=FILE` writes every command's exit code and
 * output to FILE.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'shell-quote';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { main as localMain } from '../../src/local/main.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { type DocCommand, docExamples } from '../support/doc-examples.ts';
import { uniqueStage } from '../support/stack.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const NOT_FOUND = 3;
const RETRY_MS = 15_000;

async function documents(): Promise<{ doc: string; markdown: string }[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return Promise.all(
    ['README.md', ...docs.map((name) => `docs/${name}`)].map(async (doc) => ({
      doc,
      markdown: await readFile(join(ROOT, doc), 'utf8'),
    })),
  );
}

interface Outcome {
  readonly code: number;
  readonly output: string;
}

class DocsSession {
  readonly variables: Record<string, string>;
  readonly workdir: string;
  constructor(workdir: string, environment: Record<string, string>) {
    this.workdir = workdir;
    this.variables = { ...environment };
  }

  async run(command: DocCommand): Promise<Outcome> {
    const text = command.text.replaceAll(/(^|[\s='"])\/tmp\//g, `$1${this.workdir}/tmp/`);
    const assignments = /^(export\s+)?([A-Z_][A-Z0-9_]*=\S*\s*)+$/.exec(text.trim());
    if (assignments) return this.#assign(text);
    const parsed = parse(text, (name) => this.variables[name] ?? process.env[name] ?? '');
    const words = parsed.filter((token) => typeof token === 'string') as string[];
    const operators = parsed.filter((token) => typeof token !== 'string' && !('comment' in token));
    const redirect =
      operators.length === 1 &&
      'op' in (operators[0] as object) &&
      (operators[0] as { op: string }).op === '>';
    if (operators.length === 0 || redirect) {
      const target = redirect ? words.pop() : undefined;
      const cli = cliArguments(words);
      // The console serves until interrupted: its own tests start and stop it (tests/e2e/console.e2e.spec.ts).
      if (cli?.includes('console')) return { code: 0, output: 'serves until interrupted: not run here' };
      if (cli) return this.#withRetry(() => this.#cli(cli, target));
      const local = localArguments(words);
      if (local && !target)
        return local.includes('--keep') ? { code: 0, output: 'terminal 1' } : this.#local(local);
    }
    return this.#bash(text);
  }

  #assign(text: string): Outcome {
    for (const [, name, value] of text.matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)) {
      this.variables[name as string] = (value as string).replaceAll(
        /\$(\w+)/g,
        (_, v: string) => this.variables[v] ?? '',
      );
    }
    return { code: 0, output: '' };
  }

  async #withRetry(attempt: () => Promise<Outcome>): Promise<Outcome> {
    const deadline = Date.now() + RETRY_MS;
    for (;;) {
      const outcome = await attempt();
      if (outcome.code !== NOT_FOUND || Date.now() > deadline) return outcome;
      await new Promise((settle) => setTimeout(settle, 500));
    }
  }

  async #cli(argv: readonly string[], target: string | undefined): Promise<Outcome> {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const args = await Promise.all(argv.map((token) => this.#existing(token)));
    const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream, env: this.variables });
    if (target) await writeFile(this.#file(target), stdout.text());
    return { code, output: `${stdout.text()}${stderr.text()}` };
  }

  async #local(args: readonly string[]): Promise<Outcome> {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const json = args.includes('--npm-json');
    const paths = await Promise.all(
      args.filter((arg) => arg !== '--npm-json').map((arg) => this.#existing(arg)),
    );
    const withStage = paths.includes('--stage') ? paths : [...paths, '--stage', uniqueStage('d')];
    const code = await localMain(withStage, {
      stdout: stdout.stream,
      stderr: stderr.stream,
      untilStopped: async () => undefined,
      emulators: inject('emulatorEndpoints'),
      env: { ...process.env, ...(json ? { npm_config_json: 'true' } : {}) },
    });
    return { code, output: `${stdout.text()}${stderr.text()}` };
  }

  async #bash(text: string): Promise<Outcome> {
    try {
      const { stdout, stderr } = await run('bash', ['-e', '-o', 'pipefail', '-c', text], {
        cwd: this.workdir,
        env: { ...process.env, ...this.variables },
        timeout: 60_000,
      });
      return { code: 0, output: `${stdout}${stderr}` };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof failed.code === 'number' ? failed.code : 1,
        output: `${failed.stdout}${failed.stderr}`,
      };
    }
  }

  #file(name: string): string {
    return isAbsolute(name) ? name : join(this.workdir, name);
  }

  /** A relative path naming a file of the working directory (an example file, `events/…`) → absolute. */
  async #existing(token: string): Promise<string> {
    if (token.startsWith('-') || isAbsolute(token) || !/^[\w./-]+$/.test(token)) return token;
    try {
      await readFile(join(this.workdir, token));
      return join(this.workdir, token);
    } catch {
      return token;
    }
  }
}

/** The CLI's argv when the words invoke it: `routing-manager …`, `npx routing-manager …`, `npm run -s cli -- …`. */
function cliArguments(words: readonly string[]): string[] | undefined {
  if (words[0] === 'routing-manager') return words.slice(1);
  if (words[0] === 'npx' && words[1] === 'routing-manager') return words.slice(2);
  if (words.slice(0, 5).join(' ') === 'npm run -s cli --') return words.slice(5);
  return undefined;
}

/** The local main's argv for `npm run [-s] local [--json] [-- args…]` (npm's own --json is passed on). */
function localArguments(words: readonly string[]): string[] | undefined {
  const rest = words[0] === 'npm' && words[1] === 'run' ? words.slice(2).filter((word) => word !== '-s') : [];
  if (rest[0] !== 'local') return undefined;
  const separator = rest.indexOf('--');
  const npmFlags = separator === -1 ? rest.slice(1) : rest.slice(1, separator);
  const args = separator === -1 ? [] : rest.slice(separator + 1);
  return [...args, ...(npmFlags.includes('--json') ? ['--npm-json'] : [])];
}

describe('the documented examples', () => {
  let workdir = '';
  const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
  const before = Object.fromEntries(Object.keys(quiet).map((name) => [name, process.env[name]]));
  beforeAll(() => {
    Object.assign(process.env, quiet);
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('follow the marking convention: every skip has a reason, every file a name', async () => {
    const problems = (await documents()).flatMap(({ doc, markdown }) => docExamples(doc, markdown).problems);
    expect(problems).toEqual([]);
  });

  it('given the live local stack, when every command and example file of the docs is run as written, then each ends as documented', async () => {
    workdir = await mkdtemp(join(tmpdir(), 'docs-examples-'));
    // The repository's folders (events/, examples/, …), so a doc's relative paths find them.
    for (const entry of await readdir(ROOT, { withFileTypes: true })) {
      const skip = entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'tmp';
      if (entry.isDirectory() && !skip) await symlink(join(ROOT, entry.name), join(workdir, entry.name));
    }
    await mkdir(join(workdir, 'tmp'));
    const examples = (await documents()).map(({ doc, markdown }) => docExamples(doc, markdown));
    const failures: string[] = [];
    let ran = 0;
    const transcript: string[] = [];
    const terminal1 = { stdout: aCapturedOutput(), stderr: aCapturedOutput() };
    const code = await localMain(['--keep', '--stage', 'prod'], {
      stdout: terminal1.stdout.stream,
      stderr: terminal1.stderr.stream,
      emulators: inject('emulatorEndpoints'),
      env: { ...process.env },
      untilStopped: async () => {
        const session = new DocsSession(workdir, exportsOf(terminal1.stdout.lines()));
        const seen = new Set<string>();
        for (const doc of examples) {
          for (const file of doc.files) await writeFile(join(workdir, file.name), file.text);
          for (const command of doc.commands) {
            if (seen.has(command.text)) continue;
            seen.add(command.text);
            ran++;
            const outcome = await session.run(command);
            if (process.env.DOCS_EXAMPLES_TRACE)
              transcript.push(
                `${command.doc}:${command.line} [${outcome.code}] ${command.text.split('\n')[0]}\n${outcome.output.slice(0, 600)}`,
              );
            if (!command.exits.includes(outcome.code)) {
              failures.push(
                `${command.doc}:${command.line} \`${command.text.split('\n')[0]}\` exited ${outcome.code} (expected ${command.exits.join(' or ')}):\n${outcome.output.slice(-1500)}`,
              );
            }
          }
        }
      },
    });
    if (process.env.DOCS_EXAMPLES_TRACE)
      await writeFile(process.env.DOCS_EXAMPLES_TRACE, transcript.join('\n\n'));
    expect(code, terminal1.stderr.text().slice(-2000)).toBe(0);
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(ran).toBeGreaterThan(30);
  }, 600_000);
});

/** Terminal 1's `export NAME=value` lines, read as a shell would. */
function exportsOf(lines: readonly string[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const line of lines) {
    if (!line.startsWith('export ')) continue;
    const [assignment] = parse(line.slice('export '.length)) as string[];
    const equals = (assignment ?? '').indexOf('=');
    if (equals > 0)
      environment[(assignment as string).slice(0, equals)] = (assignment as string).slice(equals + 1);
  }
  return environment;
}
