/**
 * `routing-manager`: the operator CLI of the Routing Manager — audit history, audit queries, replay
 * after an outage, what-if on a candidate routing table. Works against AWS with the default
 * credential chain, or against `npm run local -- --keep` through the AWS_ENDPOINT_URL_* variables.
 *
 * `runCli(argv, io)` is the whole program with its I/O injected: it returns the exit code and never
 * calls process.exit, so tests run it in-process.
 */
import { Command, CommanderError } from 'commander';
import { InvalidAuditWindowError } from '../audit/audit-window.ts';
import { InvalidIncidentKeyError } from '../audit/replay-plan.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import {
  CliContext,
  type CliIo,
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_RUNTIME,
  EXIT_USAGE,
  type GlobalOptions,
  JobNotFoundError,
  UsageError,
} from './cli-context.ts';
import { registerDecisions } from './commands/decisions.ts';
import { registerForget } from './commands/forget.ts';
import { registerHealth } from './commands/health.ts';
import { registerHistory } from './commands/history.ts';
import { registerReplay } from './commands/replay.ts';
import { registerRules } from './commands/rules.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerWhatIf } from './commands/what-if.ts';

export type { CliIo } from './cli-context.ts';

function buildProgram(io: CliIo, contexts: CliContext[]): Command {
  const program = new Command('routing-manager')
    .description('Operator CLI of the Routing Manager: history, decisions, replay, what-if, forget, submit.')
    .option(
      '--stage <stage>',
      'stage of the tables (RoutingLog-<stage>, Jobs-<stage>, Credits-<stage>); default $STAGE or dev',
    )
    .option('--log-table <name>', 'routing log table (default: $EVENT_LOG_TABLE or RoutingLog-<stage>)')
    .option('--jobs-table <name>', 'Jobs table (default: $JOBS_TABLE or Jobs-<stage>)')
    .option('--credits-table <name>', 'Credits table (default: $CREDITS_TABLE or Credits-<stage>)')
    .option(
      '--content-table <name>',
      'user content table (default: $CONTENT_TABLE or RoutingContent-<stage>)',
    )
    .option('--region <region>', 'AWS region (default: the SDK chain: $AWS_REGION, profile)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const contextOf = (command: Command): CliContext => {
    const context = new CliContext(io, command.optsWithGlobals<GlobalOptions>());
    contexts.push(context);
    return context;
  };
  registerHistory(program, contextOf);
  registerDecisions(program, contextOf);
  registerReplay(program, contextOf);
  registerForget(program, contextOf);
  registerWhatIf(program, contextOf);
  registerRules(program, contextOf);
  registerHealth(program, contextOf);
  registerSubmit(program, contextOf);
  return program;
}

/** Runs the CLI; resolves to the exit code (0 ok, 1 runtime/AWS error, 2 usage error, 3 not found). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const contexts: CliContext[] = [];
  const program = buildProgram(io, contexts);
  const fail = (code: number, message: string) => {
    io.stderr.write(`routing-manager: ${message}\n`);
    return code;
  };
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
    return contexts.reduce((code, context) => Math.max(code, context.exitCode), EXIT_OK);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed the message already; help and --version are not errors.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (
      error instanceof UsageError ||
      error instanceof InvalidAuditWindowError ||
      error instanceof InvalidIncidentKeyError
    )
      return fail(EXIT_USAGE, error.message);
    if (error instanceof JobNotFoundError) return fail(EXIT_NOT_FOUND, error.message);
    if (error instanceof Error && error.name === 'CredentialsProviderError') {
      return fail(EXIT_RUNTIME, `no AWS credentials: ${error.message}`);
    }
    // Unexpected errors may come from parsing logged jobs: their messages lose any quoted content.
    const message =
      error instanceof Error ? `${error.name}: ${contentFreeMessage(error)}` : contentFreeMessage(error);
    return fail(EXIT_RUNTIME, message.startsWith('TableNotFoundError: ') ? message.slice(20) : message);
  } finally {
    for (const context of contexts) context.destroy();
  }
}

/** The process's own streams and environment. */
export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });
