/**
 * The console's only way to read or change anything: it runs the CLI's own verbs in-process with
 * `--output json` (the runner is built by the `console` verb, src/cli/verbs/console.ts) and parses
 * what they print. So every panel is exactly what `routing-manager <verb>` answers in a terminal —
 * the same queries, the same commands, the same checks of names and windows — and the page shows
 * each panel's command lines so an operator can re-run them.
 */

export interface VerbRun {
  /** The command line as an operator would type it (without the console's global options). */
  readonly commandLine: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type RunVerb = (argv: readonly string[]) => Promise<VerbRun>;

/** The JSON Lines a verb printed (`--output json`), each parsed. */
export const jsonLinesOf = (run: VerbRun): unknown[] =>
  run.stdout
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as unknown);
