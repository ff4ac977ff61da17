/**
 * `routing-manager`: the operator CLI of the Routing Manager — audit history, audit queries, replay,
 * re-drive and erasure, what-if and published rules, provider health, submitting sample jobs. Works
 * against AWS like the AWS CLI does (profile, region, credentials chain), or against
 * `npm run local -- --keep`. It parses and prints only: whatever appends to the log is a command
 * handler in src/commands (docs/ARCHITECTURE.md#commands).
 *
 * `runCli(argv, io)` is the whole program with its I/O injected: it returns the exit code and never
 * calls process.exit, so tests run it in-process. bin/routing-manager.mjs runs the built bundle.
 *
 * How a verb plugs in (every verb follows this; keep each to one register line below). The CLI's
 * subcommands are called verbs (`replay`, `forget`, …) so that "command" means one thing in this
 * codebase: a use-case message handled in src/commands.
 *   1. `src/cli/verbs/<name>.ts` exports `register<Name>(program, contextOf)`, declares only its
 *      own options, and starts its action with `const context = contextOf(command)`.
 *   2. The global options are declared once, here, and are accepted before or after the verb:
 *      --profile, --region, --endpoint-url, --output json|table (--json), --stage, table names.
 *      A verb reads them through the context only: `context.json`, `context.tables`, its adapters
 *      from `context.ports()` (the CLI's one composition root, src/cli/cli-ports.ts), and
 *      `context.client((config) => new SomeClient(config))` for a service without a port.
 *      A verb's own `--json` flag is set too when `--output json` is given.
 *   3. Bad input throws UsageError with the allowed values (src/cli/vocabulary.ts): exit 2, before
 *      any AWS call. Partial failure sets `context.exitCode`. Exit codes: src/exit-codes.ts; which
 *      error means which code: src/cli/failures.ts.
 *   4. A verb imports no other verb: what verbs share lives in src/cli (options.ts, rules-files.ts)
 *      or a lower floor (lint: .dependency-cruiser.cjs).
 */
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { EXIT_CODES, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../exit-codes.ts';
import {
  CliContext,
  type CliIo,
  type GlobalOptions,
  OUTPUT_FORMATS,
  outputFormatOf,
  stageOf,
} from './cli-context.ts';
import { failureOf } from './failures.ts';
import { registerCapacity } from './verbs/capacity.ts';
import { registerConsole } from './verbs/console.ts';
import { registerDecisions } from './verbs/decisions.ts';
import { registerForget } from './verbs/forget.ts';
import { registerHealth } from './verbs/health.ts';
import { registerHistory } from './verbs/history.ts';
import { registerProjector } from './verbs/projector.ts';
import { registerRedrive } from './verbs/redrive.ts';
import { registerReplay } from './verbs/replay.ts';
import { registerRules } from './verbs/rules/index.ts';
import { registerSubmit } from './verbs/submit.ts';
import { registerWhatIf } from './verbs/what-if.ts';

export type { CliIo } from './cli-context.ts';

const exitCodesHelp = (): string =>
  `\n  --version  (before any command) print the version\n\nExit codes:\n${Object.entries(EXIT_CODES)
    .map(([code, meaning]) => `  ${code}  ${meaning}`)
    .join('\n')}\n`;

function buildProgram(io: CliIo, contexts: CliContext[]): Command {
  const program = new Command('routing-manager')
    .description(
      'Operator CLI of the Routing Manager: history, decisions, replay, redrive, forget, what-if, rules, health, projector, submit, console. Global options go before or after the command.',
    )
    .option('--profile <name>', 'AWS profile of ~/.aws/config (default: $AWS_PROFILE)')
    .option(
      '--region <region>',
      "AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region)",
    )
    .option('--endpoint-url <url>', 'send every AWS call to this endpoint (e.g. the local stack)')
    .addOption(new Option('--output <format>', 'output format').choices(OUTPUT_FORMATS))
    .option('--json', 'alias of --output json')
    .option(
      '--stage <stage>',
      'stage of the tables (RoutingLog-<stage>, Jobs-<stage>, Credits-<stage>); default $STAGE or dev',
    )
    .option('--log-table <name>', 'routing log table (default: $EVENT_LOG_TABLE or RoutingLog-<stage>)')
    .option('--jobs-table <name>', 'Jobs table (default: $JOBS_TABLE or Jobs-<stage>)')
    .option('--credits-table <name>', 'Credits table (default: $CREDITS_TABLE or Credits-<stage>)')
    .option(
      '--effects-table <name>',
      'completion markers table (default: $EFFECTS_TABLE or RoutingEffects-<stage>)',
    )
    .option(
      '--content-table <name>',
      'user content table (default: $CONTENT_TABLE or RoutingContent-<stage>)',
    )
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', exitCodesHelp)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .hook('preAction', (_program, action) => {
      const options = program.opts<GlobalOptions>();
      stageOf(options, io.env); // before anything starts
      if (outputFormatOf(options) === 'json' && action.options.some((o) => o.attributeName() === 'json')) {
        action.setOptionValue('json', true);
      }
    });
  const contextOf = (command: Command): CliContext => {
    const context = new CliContext(io, command.optsWithGlobals<GlobalOptions>());
    context.verb = command.name();
    contexts.push(context);
    return context;
  };
  registerHistory(program, contextOf);
  registerDecisions(program, contextOf);
  registerReplay(program, contextOf);
  registerRedrive(program, contextOf);
  registerForget(program, contextOf);
  registerWhatIf(program, contextOf);
  registerRules(program, contextOf);
  registerCapacity(program, contextOf);
  registerHealth(program, contextOf);
  registerProjector(program, contextOf);
  registerSubmit(program, contextOf);
  registerConsole(program, contextOf, runCli);
  return program;
}

/** Runs the CLI; resolves to the exit code (EXIT_CODES). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const contexts: CliContext[] = [];
  const program = buildProgram(io, contexts);
  // Ctrl-C during a resumable verb: say how far it got and how to resume, then die by the signal.
  const onInterrupt = () => {
    const resume = resumeHint(contexts.at(-1), argv);
    if (resume) io.stderr.write(`\nrouting-manager: ${resume}\n`);
    process.kill(process.pid, 'SIGINT');
  };
  let watching = false;
  program.hook('preAction', (_program, action) => {
    if (io.interrupts === true && RESUMABLE_VERBS.has(action.name()) && !watching) {
      watching = true;
      process.once('SIGINT', onInterrupt);
    }
  });
  const stopWatching = () => {
    if (watching) process.off('SIGINT', onInterrupt);
  };
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    // Only before a command: after one, `--version` is that command's own (`rules export --version V`).
    if (argv[0] === '--version') {
      io.stdout.write(`${packageJson.version}\n`);
      return EXIT_OK;
    }
    await program.parseAsync(argv, { from: 'user' });
    const code = contexts.reduce((worst, context) => Math.max(worst, context.exitCode), EXIT_OK);
    // Finished, but some jobs were not done (their failures are in the summary): how to finish them.
    const resume = code === EXIT_RUNTIME ? resumeHint(contexts.at(-1), argv, 'left some undone') : null;
    if (resume) io.stderr.write(`routing-manager: ${resume}\n`);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed the message already; help and --version are not errors.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const failure = failureOf(error, contexts.at(-1));
    io.stderr.write(`routing-manager: ${failure.message}\n`);
    const resume = failure.code === EXIT_RUNTIME ? resumeHint(contexts.at(-1), argv) : null;
    if (resume) io.stderr.write(`routing-manager: ${resume}\n`);
    return failure.code;
  } finally {
    stopWatching();
    for (const context of contexts) context.destroy();
  }
}

/** Verbs that record what they did as they go, so running them again finishes the rest. */
const RESUMABLE_VERBS = new Set(['replay', 'redrive', 'forget']);

/**
 * For a resumable verb stopped part-way (a failure, Ctrl-C): how far it got and the command that
 * resumes — the same one, since what was done is recorded and is not done again.
 */
export function resumeHint(
  context: CliContext | undefined,
  argv: readonly string[],
  ended = 'interrupted',
): string | null {
  if (!context || !RESUMABLE_VERBS.has(context.verb)) return null;
  const progress = context.progress;
  const howFar = progress ? `after ${progress.done} of ${progress.total} job(s)` : 'before it finished';
  return (
    `${context.verb} ${ended} ${howFar}; what it did is recorded and is not done again. ` +
    `Resume with: routing-manager ${argv.map(shellWord).join(' ')}`
  );
}

/** A word as a shell reads it back: quoted when it holds anything but plain characters. */
const shellWord = (word: string): string =>
  /^[\w@%+=:,./#-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

/** The process's own streams and environment. */
export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interrupts: true,
});
