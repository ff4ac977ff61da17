/**
 * Runs the `routing-manager` CLI in-process against a stage, capturing what it prints — what an
 * operator's terminal would show — so integration tests assert on the exit code and the output.
 */
import { type CliIo, runCli } from '../../src/cli/main.ts';

export interface CliRunOptions {
  /** The environment the CLI sees (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** The CLI's clock for relative windows (`--since 1h`); the real clock when absent. */
  readonly now?: () => Date;
}

export async function runCliOn(stage: string, argv: readonly string[], options: CliRunOptions = {}) {
  const captured = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: { write: (text: string) => (captured.stdout += text) },
    stderr: { write: (text: string) => (captured.stderr += text) },
    env: options.env ?? process.env,
    ...(options.now ? { now: options.now } : {}),
  };
  const code = await runCli(['--stage', stage, ...argv], io);
  const lines = () =>
    captured.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  /** `lines()`: each non-empty stdout line as JSON (JSON Lines); `json()`: the first one. */
  return { code, ...captured, lines, json: () => lines()[0] };
}
