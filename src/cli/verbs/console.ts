/**
 * `routing-manager console [--port N] [--allow-actions] [--show-content] [--by WHO]`: a local web
 * page over the other verbs — provider strip, decisions over time, job timelines, rules, projection
 * health — on 127.0.0.1, behind a per-run token (src/console/). Only this declaration is loaded with
 * the CLI: the console's code, its server and its page are imported when the verb runs, so every
 * other verb starts as fast as before.
 */
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../cli-context.ts';
import { UsageError } from '../cli-context.ts';
import { forwardedOptions, inProcessVerbs, type RunCli } from '../in-process-verbs.ts';

interface ConsoleOptions {
  port: string;
  allowActions?: boolean;
  showContent?: boolean;
  by?: string;
}

/** Resolves on Ctrl-C / SIGTERM, or when the caller's `io.stop` aborts (tests, embedding). */
function stopped(context: CliContext): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const { stop } = context.io;
    if (stop) {
      if (stop.aborted) return done();
      stop.addEventListener('abort', done, { once: true });
      return;
    }
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** `runCli` comes from main.ts: the console runs the very CLI it was started from. */
export function registerConsole(
  program: Command,
  contextOf: (command: Command) => CliContext,
  runCli: RunCli,
) {
  program
    .command('console')
    .description(
      'a local web page (127.0.0.1, per-run token) showing breakers, decisions over time, job timelines, rules and projection health',
    )
    .option('--port <port>', 'port on 127.0.0.1 (default: a free one)', '0')
    .option(
      '--allow-actions',
      'enable breaker open/close/auto, replay and re-drive from the page (read-only without)',
    )
    .option('--show-content', "show jobs' user content in timelines (hidden without)")
    .option('--by <who>', 'who acts, recorded with every action (default: the OS user)')
    .action(async (options: ConsoleOptions, command: Command) => {
      const context = contextOf(command);
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new UsageError('--port must be a port number (0 to 65535; 0: a free one)');
      const { runConsole } = await import('../../console/run-console.ts');
      await runConsole({
        port,
        allowActions: options.allowActions === true,
        showContent: options.showContent === true,
        by: context.operator(options.by),
        run: inProcessVerbs(runCli, context.io, forwardedOptions(command.optsWithGlobals<GlobalOptions>())),
        now: () => context.now(),
        out: (text) => context.out(text),
        err: (text) => context.err(text),
        stopped: stopped(context),
      });
    });
}
