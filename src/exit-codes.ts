/**
 * The exit codes of every program here — the `routing-manager` CLI, `npm run local`, `npm run
 * verify` — defined once. The CLI's help text and docs/REPLAY_AND_AUDIT.md#exit-codes list them.
 */
export const EXIT_OK = 0;
/** A runtime or AWS error, or a part of the work not done (run again). */
export const EXIT_RUNTIME = 1;
/** Bad input: nothing was done. */
export const EXIT_USAGE = 2;
/** The thing asked for does not exist (a job, a stack). */
export const EXIT_NOT_FOUND = 3;
/** A guarded change was refused (e.g. `rules publish` by its what-if gate): nothing changed. */
export const EXIT_REFUSED = 4;

/** What each code means, as the CLI's help prints it. */
export const EXIT_CODES = {
  [EXIT_OK]: 'ok (an empty result too)',
  [EXIT_RUNTIME]:
    'runtime or AWS error (table missing, no credentials, unreachable endpoint, a job a replay could not finish)',
  [EXIT_USAGE]:
    'usage error (unknown option, bad value — the allowed values are listed —, bad input file, missing region, unknown profile)',
  [EXIT_NOT_FOUND]: 'not found (the job asked for has no record)',
  [EXIT_REFUSED]:
    'refused (a guarded change, e.g. `rules publish`, was refused by its gate; nothing changed)',
} as const;
