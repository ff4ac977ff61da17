/**
 * The console's only way to read or change anything: it runs the CLI's own verbs in-process
 * (`runCli`, with `--output json`) and parses what they print. So every panel is exactly what
 * `routing-manager <verb>` answers in a terminal — the same queries, the same commands, the same
 * checks of names and windows — and the page shows each panel's command line so an operator can
 * re-run it (docs/OPERATIONS.md, "The console").
 */

import type { CliIo, GlobalOptions } from '../cli/cli-context.ts';
import { runCli } from '../cli/main.ts';

export interface VerbRun {
  /** The command line as an operator would type it (global options included). */
  readonly commandLine: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type RunVerb = (argv: readonly string[]) => Promise<VerbRun>;

/** The global options of the console's own invocation, passed on to every verb it runs. */
const FORWARDED: readonly (readonly [keyof GlobalOptions, string])[] = [
  ['profile', '--profile'],
  ['region', '--region'],
  ['endpointUrl', '--endpoint-url'],
  ['stage', '--stage'],
  ['logTable', '--log-table'],
  ['jobsTable', '--jobs-table'],
  ['creditsTable', '--credits-table'],
  ['effectsTable', '--effects-table'],
  ['contentTable', '--content-table'],
];

export function forwardedOptions(options: GlobalOptions): string[] {
  return FORWARDED.flatMap(([key, flag]) => {
    const value = options[key];
    return typeof value === 'string' ? [flag, value] : [];
  });
}

/** Quotes an argument for display only (never executed by a shell). */
const shown = (arg: string): string =>
  /^[\w@%+=:,./#-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;

class Captured {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs verbs as `routing-manager <global options> <verb…> --output json` with the console's environment. */
export function verbRunner(io: Pick<CliIo, 'env' | 'now'>, globalArgs: readonly string[]): RunVerb {
  return async (argv) => {
    // Global options first: a verb's arguments may end with `-- <value>`.
    const args = [...globalArgs, '--output', 'json', ...argv];
    const stdout = new Captured();
    const stderr = new Captured();
    const code = await runCli(args, { stdout, stderr, env: io.env, ...(io.now ? { now: io.now } : {}) });
    return {
      commandLine: ['routing-manager', ...argv].map(shown).join(' '),
      code,
      stdout: stdout.text,
      stderr: stderr.text,
    };
  };
}

/** The JSON Lines a verb printed (`--output json`), each parsed. */
export const jsonLinesOf = (run: VerbRun): unknown[] =>
  run.stdout
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as unknown);
