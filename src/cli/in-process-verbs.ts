/**
 * Runs the CLI's verbs in-process for the console (src/console/verb-runner.ts): `runCli` with the
 * console's own global options and environment, output captured, `--output json`.
 */
import type { RunVerb } from '../console/verb-runner.ts';
import type { CliIo, GlobalOptions } from './cli-context.ts';

export type RunCli = (argv: readonly string[], io: CliIo) => Promise<number>;

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

/** Runs verbs as `routing-manager <global options> --output json <verb…>` with the console's environment. */
export function inProcessVerbs(
  runCli: RunCli,
  io: Pick<CliIo, 'env' | 'now'>,
  globalArgs: readonly string[],
): RunVerb {
  return async (argv) => {
    const stdout = new Captured();
    const stderr = new Captured();
    // Global options first: a verb's arguments may end with `-- <value>`.
    const code = await runCli([...globalArgs, '--output', 'json', ...argv], {
      stdout,
      stderr,
      env: io.env,
      ...(io.now ? { now: io.now } : {}),
    });
    return {
      commandLine: ['routing-manager', ...argv].map(shown).join(' '),
      code,
      stdout: stdout.text,
      stderr: stderr.text,
    };
  };
}
