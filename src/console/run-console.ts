/** The console verb's body (loaded only when it runs): build the page, serve it, print its URL, wait. */
import type { CliContext, GlobalOptions } from '../cli/cli-context.ts';
import { startConsole } from './console-server.ts';
import { uiAssets } from './ui-assets.ts';
import { forwardedOptions, verbRunner } from './verb-runner.ts';

export interface ConsoleSettings {
  readonly port: number;
  readonly allowActions: boolean;
  readonly showContent: boolean;
  readonly by: string;
}

export async function runConsole(
  context: CliContext,
  globals: GlobalOptions,
  settings: ConsoleSettings,
  stopped: Promise<void>,
): Promise<void> {
  const running = await startConsole({
    port: settings.port,
    run: verbRunner(context.io, forwardedOptions(globals)),
    policy: { allowActions: settings.allowActions, by: settings.by },
    showContent: settings.showContent,
    assets: await uiAssets(),
    now: () => context.now(),
  });
  context.out(running.url);
  context.err(
    `routing-manager console: serving ${settings.allowActions ? 'with actions enabled' : 'read-only'} ` +
      `on 127.0.0.1:${running.port}; open the URL above (it carries this run's token). Ctrl-C stops it.`,
  );
  await stopped;
  await running.close();
}
