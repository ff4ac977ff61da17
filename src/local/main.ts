/**
 * `npm run local [-- [--json] [--keep] [--verbose] [--stage S] [--credits FILE] [--rules FILE] [paths…]]`
 *
 * Runs every submission through the real pipeline on local emulators and prints what landed.
 * stdout carries only the results (a table, or one JSON object per input event with --json);
 * everything else — progress, and the handlers' Powertools logs with --verbose — goes to stderr.
 * `npm run local --json` (npm's own flag, before any `--`) is the same as `-- --json`, and makes npm
 * print its script banner to stderr instead of stdout: the way to clean JSON without `npm run -s`.
 *
 * With --keep the stack stays live until SIGINT/SIGTERM: events put on its bus are routed and
 * projected as in AWS (src/local/live-intake.ts), and the printed `export` lines point any AWS client
 * at it.
 *
 * `main(argv, io)` is the whole command with its I/O injected: it returns the exit code (0 ok,
 * 1 runtime error, 2 usage error) and never exits, so tests run it in-process. Only the entry guard
 * at the bottom touches the real process.
 */

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, type CommanderError, Option } from 'commander';
import type { OutputStream } from '../cli/cli-context.ts';
import { renderTable } from '../cli/output.ts';
import {
  DEFAULT_SAMPLE_PREFIX,
  EventFileError,
  loadSubmittedEvents,
  originName,
} from '../cli/submitted-events.ts';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../exit-codes.ts';
import { parseJsonText } from '../intake/json-text.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import { InvalidRoutingTableError, loadRoutingTable, type RoutingTable } from '../routing/routing-table.ts';
import type { EmulatorEndpoints, RunningEmulators } from './emulators.ts';
import { type LocalEventResult, type LocalRun, type RunLocalOptions, runLocal } from './run-local.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface LocalIo {
  /** Results only: the table, or one JSON object per line with --json. */
  readonly stdout: OutputStream;
  /** Everything else: progress, skipped files, errors, usage. */
  readonly stderr: OutputStream;
  /** A `--keep` session lasts until this settles (from the process: until a signal ends it). */
  readonly untilStopped: () => Promise<void>;
  /** Told about emulators this run started (so a signal can stop them), and null once stopped. */
  readonly onEmulators?: (running: RunningEmulators | null) => void;
  /** Emulators already running (the tests'); absent: the run starts its own. */
  readonly emulators?: EmulatorEndpoints;
  /** Read for npm's flags and the log level, and given the quiet defaults (process.env by default). */
  readonly env?: Record<string, string | undefined>;
  /** The pipeline; the real `runLocal` unless a test substitutes it. */
  readonly runLocal?: (options: RunLocalOptions) => Promise<LocalRun>;
}

interface LocalOptions {
  json?: boolean;
  keep?: boolean;
  verbose?: boolean;
  stage: string;
  credits?: string;
  rules?: string;
}

const asLine = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

function localProgram(out: (text: string) => void, err: (text: string) => void): Command {
  return new Command('local')
    .description('Run submissions through the real router and projector on local emulators.')
    .argument(
      '[paths...]',
      'event files or directories (default: events/submitted-*.json); provider.invoker attempt and status events are taken in order',
    )
    .option('--json', 'one JSON object per input event on stdout')
    .option(
      '--keep',
      'keep the stack live (events on its bus are routed) and print its environment; stop with Ctrl-C',
    )
    .option(
      '--verbose',
      "the handlers' logs on stderr (default: only with LOG_LEVEL or POWERTOOLS_LOG_LEVEL)",
    )
    .addOption(new Option('--stage <stage>', 'stage suffix of the local resources').default('local'))
    .option('--credits <file>', 'JSON object userId → balance, seeded into Credits-<stage>')
    .option(
      '--rules <file>',
      'a routing table published as the active rules (a local queue for each provider it adds)',
    )
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
}

/** Runs `npm run local` with these arguments; resolves to the exit code. */
export async function main(argv: readonly string[], io: LocalIo): Promise<number> {
  const out = (text: string) => io.stdout.write(asLine(text));
  const err = (text: string) => io.stderr.write(asLine(text));
  const program = localProgram(out, err);
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    // exitOverride: commander printed the message (or the help) and threw instead of exiting.
    return (error as CommanderError).exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  const options = program.opts<LocalOptions>();
  const env = io.env ?? process.env;
  // `npm run local --json`: npm takes the flag (and moves its banner to stderr) and passes it on here.
  const json = options.json === true || env.npm_config_json === 'true';
  Object.assign(env, handlerLogEnvironment(env, options.verbose === true));
  const named = program.args.length > 0;
  const paths = named ? program.args : [join(projectRoot, 'events')];
  // Emulators this run started: stopped here if anything fails after they came up.
  const session: { emulators: RunningEmulators | null } = { emulators: null };
  let rules: { table: RoutingTable; origin: string } | undefined;
  if (options.rules) {
    try {
      const json = parseJsonText(await readFile(options.rules, 'utf8'));
      if (!json.ok) {
        err(`[local] --rules ${options.rules}:${json.line}:${json.column}: not JSON: ${json.problem}`);
        return EXIT_USAGE;
      }
      rules = { table: loadRoutingTable(json.value), origin: options.rules };
    } catch (error) {
      // An operator's file: every problem of the table, with its path (routing-manager rules validate).
      err(
        `[local] --rules ${options.rules}: ${error instanceof InvalidRoutingTableError ? error.message : contentFreeMessage(error)}`,
      );
      return EXIT_USAGE;
    }
  }
  try {
    const credits = options.credits ? await readCredits(options.credits) : undefined;
    const inputs = await loadSubmittedEvents(paths, {
      newId: randomUUID,
      now: () => new Date(),
      onlyPrefix: named ? undefined : DEFAULT_SAMPLE_PREFIX,
      onSkip: (path) => err(`[local] skipped ${path}: not a submission sample`),
    });
    if (inputs.length === 0) {
      err('[local] no submissions found');
      return EXIT_USAGE;
    }
    const startedAt = Date.now();
    const run = await (io.runLocal ?? runLocal)({
      inputs,
      stage: options.stage,
      credits,
      ...(rules ? { rules } : {}),
      emulators: io.emulators,
      onEmulatorsStarted: (running) => {
        session.emulators = running;
        io.onEmulators?.(running);
      },
      progress: (message) => err(`[local] ${message}`),
      ...(options.keep ? { live: { report: (line: string) => err(`[live] ${line}`) } } : {}),
    });
    print(run.results, json, out);
    err(`[local] ${run.results.length} event(s) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    if (options.keep) {
      printEnvironment(run, json ? err : out);
      err(
        `[local] stack live: events on bus ${run.stack.eventBusName} are routed ` +
          '(`routing-manager submit FILE…`, or any PutEvents); press Ctrl-C to stop it',
      );
      await io.untilStopped();
      err('[local] stopping the stack');
    }
    await run.stop();
    session.emulators = null;
    io.onEmulators?.(null);
    return EXIT_OK;
  } catch (error) {
    err(`[local] error: ${error instanceof Error ? error.message : String(error)}`);
    await session.emulators?.stop();
    // A bad input file is a usage error here as in every routing-manager verb: exit 2.
    return error instanceof EventFileError ? EXIT_USAGE : EXIT_RUNTIME;
  }
}

async function readCredits(path: string): Promise<Record<string, number>> {
  const text = await readFile(path, 'utf8');
  const json = parseJsonText(text);
  if (!json.ok) throw new EventFileError(path, `not JSON: ${json.problem}`, { at: json });
  const parsed = json.value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EventFileError(path, 'expected a JSON object userId → balance');
  }
  for (const [index, balance] of Object.values(parsed).entries()) {
    if (typeof balance !== 'number' || !Number.isFinite(balance)) {
      // Not the userId: it is user content.
      throw new EventFileError(path, `the balance of entry ${index + 1} is not a number`);
    }
  }
  return parsed as Record<string, number>;
}

function print(results: readonly LocalEventResult[], json: boolean, out: (text: string) => void) {
  if (json) {
    for (const result of results) out(JSON.stringify(result));
    return;
  }
  out(
    renderTable(
      ['event', 'jobId', 'outcome', 'provider/model', 'reason', 'msgs', 'events', 'Jobs status'],
      results.map((r) => [
        originName(r.origin),
        r.jobId ?? (r.eventId ? `- (event ${r.eventId})` : '-'),
        r.outcome,
        r.provider ? `${r.provider}/${r.model}` : '-',
        reasonCell(r),
        String(r.effects.messages),
        String(r.effects.events),
        r.effects.jobStatus ?? '-',
      ]),
    ),
  );
}

/** The reason, with the fields an invalid request got wrong (paths and messages, never values). */
function reasonCell(result: LocalEventResult): string {
  // A provider signal: what it changed (breaker transitions, the revision), or "no change".
  if (result.change)
    return result.reason ? `${result.reason}: ${result.change.summary}` : result.change.summary;
  if (!result.reason) return '-';
  const fields = (result.fieldErrors ?? []).map((error) => `${error.path}: ${error.message}`);
  return fields.length > 0 ? `${result.reason} (${fields.join('; ')})` : result.reason;
}

function printEnvironment(run: LocalRun, write: (text: string) => void) {
  write(
    `# DynamoDB + Streams: ${run.endpoints.dynamodb}   SQS, EventBridge, CloudWatch: ${run.endpoints.moto}`,
  );
  write(
    `# paste into a shell: the AWS CLI, boto3, the SDKs and \`routing-manager\` then work against stage ${run.stack.stage}`,
  );
  // A profile or session token from the shell would otherwise be mixed with the emulators' keys.
  write('unset AWS_PROFILE AWS_SESSION_TOKEN');
  for (const [name, value] of Object.entries(run.environment)) write(`export ${name}=${shellQuote(value)}`);
  write(`export ANNOUNCEMENTS_QUEUE_URL=${shellQuote(run.stack.queues.announcements)}`);
}

/**
 * Quiet by default: the handlers' Powertools logs and EMF metric lines only with --verbose, or when
 * the caller chose a level (LOG_LEVEL / POWERTOOLS_LOG_LEVEL). Returns the variables to set.
 */
export function handlerLogEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  verbose: boolean,
): Record<string, string> {
  const chosen = env.POWERTOOLS_LOG_LEVEL ?? env.LOG_LEVEL;
  if (verbose) return chosen ? {} : { POWERTOOLS_LOG_LEVEL: 'INFO' };
  return {
    ...(chosen ? {} : { POWERTOOLS_LOG_LEVEL: 'SILENT' }),
    ...(env.POWERTOOLS_METRICS_DISABLED === undefined ? { POWERTOOLS_METRICS_DISABLED: 'true' } : {}),
  };
}

export const shellQuote = (value: string): string =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;

/** What the entry point uses of `process` (a fake one in tests). */
export interface HostProcess {
  readonly pid: number;
  readonly stdout: { write: (chunk: string, ...rest: never[]) => unknown };
  readonly stderr: { write: (chunk: string, ...rest: never[]) => unknown };
  on(signal: StopSignal, listener: () => void): unknown;
  removeAllListeners(signal: StopSignal): unknown;
  kill(pid: number, signal: StopSignal): unknown;
  exit(code: number): void;
  /** Milliseconds for telling a repeated signal from an echo (Date.now by default). */
  readonly now?: () => number;
}

/**
 * A Ctrl-C reaches us twice at once — from the terminal (we are in npm's foreground process group)
 * and forwarded by npm — so a second signal within this window is the same request, not "hurry".
 */
const SIGNAL_ECHO_MS = 1000;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface ProcessIo extends LocalIo {
  /** Ends the process: by the signal that stopped the stack, if one did, else with `code`. */
  finish(code: number): void;
}

/**
 * Binds the command to a process: results to its stdout, every other write to its stderr.
 * SIGINT / SIGTERM during a --keep session ends `untilStopped`, so `main` stops the live loops and
 * the emulators in order; earlier, the emulators this run started are stopped at once. Either way the
 * process then dies by that same signal, as a shell (and npm, which forwarded it) expects; a second
 * signal stops the emulators and dies without waiting for the rest.
 */
export function attachToProcess(host: HostProcess): ProcessIo {
  // The handlers' loggers write to process.stdout (Powertools builds its own Console on it). Keep
  // the real stdout for results and send every other write to stderr, so `--json` stays parseable.
  const writeResult = host.stdout.write.bind(host.stdout);
  host.stdout.write = host.stderr.write.bind(host.stderr);
  let emulators: RunningEmulators | null = null;
  let signalled: StopSignal | null = null;
  let release: (() => void) | null = null;
  const die = (signal: StopSignal) => {
    host.removeAllListeners(signal);
    host.kill(host.pid, signal);
  };
  let stopping = false;
  const now = host.now ?? Date.now;
  let firstSignalAt = 0;
  const onSignal = (signal: StopSignal) => {
    if (signalled === null) {
      signalled = signal;
      firstSignalAt = now();
      if (release) {
        release();
        return;
      }
    } else if (release && now() - firstSignalAt < SIGNAL_ECHO_MS) {
      return;
    }
    // Not in a --keep session yet, or a second signal: stop the emulators now (once) and die.
    if (stopping) return;
    stopping = true;
    const by = signalled;
    void (async () => {
      await emulators?.stop();
      die(by);
    })();
  };
  host.on('SIGINT', () => onSignal('SIGINT'));
  host.on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    stdout: { write: (text: string) => writeResult(text) },
    stderr: host.stderr,
    untilStopped: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    onEmulators: (running) => {
      emulators = running;
    },
    finish: (code) => (signalled ? die(signalled) : host.exit(code)),
  };
}

// Exits rather than waiting: the SDK's keep-alive sockets would hold the process open for a while
// after the emulators are gone.
if (import.meta.main) {
  const io = attachToProcess(process);
  io.finish(await main(process.argv.slice(2), io));
}
