/**
 * `npm run local [-- [--json] [--keep] [--stage S] [--credits FILE] [paths…]]`
 *
 * Runs every submission through the real pipeline on local emulators and prints what landed.
 * stdout carries only the results (a table, or one JSON object per input event with --json);
 * everything else — the handlers' Powertools logs, progress — goes to stderr.
 */

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { renderTable } from '../cli/output.ts';
import type { RunningEmulators } from './emulators.ts';
import { type LocalEventResult, type LocalRun, runLocal } from './run-local.ts';
import { DEFAULT_SAMPLE_PREFIX, loadSubmittedEvents, originName } from './submitted-events.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// The handlers' loggers write to process.stdout (Powertools builds its own Console on it). Keep the
// real stdout for results and send every other write to stderr, so `--json` output stays parseable.
const writeResult = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const out = (text: string) => writeResult(text.endsWith('\n') ? text : `${text}\n`);
const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

interface LocalOptions {
  json?: boolean;
  keep?: boolean;
  stage: string;
  credits?: string;
}

const program = new Command('local')
  .description('Run submissions through the real router and projector on local emulators.')
  .argument('[paths...]', 'event files or directories (default: events/submitted-*.json)')
  .option('--json', 'one JSON object per input event on stdout')
  .option('--keep', 'leave the stack running and print its endpoints; stop with Ctrl-C')
  .addOption(new Option('--stage <stage>', 'stage suffix of the local resources').default('local'))
  .option('--credits <file>', 'JSON object userId → balance, seeded into Credits-<stage>')
  .exitOverride()
  .configureOutput({ writeOut: out, writeErr: err });

let emulators: RunningEmulators | null = null;
let stopping = false;
async function shutDown(code: number) {
  if (stopping) return;
  stopping = true;
  await emulators?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutDown(130));
process.on('SIGTERM', () => void shutDown(143));

async function main(argv: readonly string[]): Promise<number> {
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const options = program.opts<LocalOptions>();
  const paths = program.args.length > 0 ? program.args : [join(projectRoot, 'events')];
  let credits: Record<string, number> | undefined;
  try {
    if (options.credits) credits = parseCredits(await readFile(options.credits, 'utf8'), options.credits);
    const inputs = await loadSubmittedEvents(paths, {
      newId: randomUUID,
      now: () => new Date(),
      onlyPrefix: program.args.length > 0 ? undefined : DEFAULT_SAMPLE_PREFIX,
      onSkip: (path) => err(`[local] skipped ${path}: not a submission sample`),
    });
    if (inputs.length === 0) {
      err('[local] no submissions found');
      return 2;
    }
    const started = Date.now();
    const run = await runLocal({
      inputs,
      stage: options.stage,
      credits,
      onEmulatorsStarted: (running) => {
        emulators = running;
      },
      progress: (message) => err(`[local] ${message}`),
    });
    print(run.results, options.json === true);
    err(`[local] ${run.results.length} event(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (options.keep) {
      printEnvironment(run, options.json === true ? err : out);
      err('[local] stack running; press Ctrl-C to stop it');
      await new Promise(() => undefined);
    }
    await run.stop();
    emulators = null;
    return 0;
  } catch (error) {
    err(`[local] error: ${error instanceof Error ? error.message : String(error)}`);
    await emulators?.stop();
    return 1;
  }
}

function parseCredits(text: string, path: string): Record<string, number> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path}: expected a JSON object userId → balance`);
  }
  for (const [userId, balance] of Object.entries(parsed)) {
    if (typeof balance !== 'number' || !Number.isFinite(balance)) {
      throw new Error(`${path}: balance of ${userId} is not a number`);
    }
  }
  return parsed as Record<string, number>;
}

function print(results: readonly LocalEventResult[], json: boolean) {
  if (json) {
    for (const result of results) out(JSON.stringify(result));
    return;
  }
  out(
    renderTable(
      ['event', 'jobId', 'outcome', 'provider/model', 'reason', 'msgs', 'events', 'Jobs status'],
      results.map((r) => [
        originName(r.origin),
        r.jobId ?? '-',
        r.outcome,
        r.provider ? `${r.provider}/${r.model}` : '-',
        r.reason ?? '-',
        String(r.effects.messages),
        String(r.effects.events),
        r.effects.jobStatus ?? '-',
      ]),
    ),
  );
}

function printEnvironment(run: LocalRun, write: (text: string) => void) {
  write(
    `# DynamoDB + Streams: ${run.endpoints.dynamodb}   SQS, EventBridge, CloudWatch: ${run.endpoints.moto}`,
  );
  write(`# paste into a shell to use the AWS CLI or \`routing-manager --stage ${run.stack.stage}\` here:`);
  for (const [name, value] of Object.entries(run.environment)) write(`export ${name}=${shellQuote(value)}`);
  write(`export ANNOUNCEMENTS_QUEUE_URL=${shellQuote(run.stack.queues.announcements)}`);
}

const shellQuote = (value: string): string =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;

process.exitCode = await main(process.argv.slice(2));
// The SDK's keep-alive sockets would hold the process open for a while after the emulators are gone.
if (process.exitCode !== undefined) process.exit(process.exitCode);
