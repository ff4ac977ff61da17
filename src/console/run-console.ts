/** The console verb's body (loaded only when it runs): build the page, serve it, print its URL, wait. */
import { startConsole } from './console-server.ts';
import { uiAssets } from './ui-assets.ts';
import type { RunVerb } from './verb-runner.ts';

export interface ConsoleRun {
  readonly port: number;
  readonly allowActions: boolean;
  readonly showContent: boolean;
  readonly by: string;
  readonly run: RunVerb;
  readonly now: () => Date;
  /** The URL (stdout) and what the console is doing (stderr). */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Resolves when the console should stop. */
  readonly stopped: Promise<void>;
}

export async function runConsole(settings: ConsoleRun): Promise<void> {
  const running = await startConsole({
    port: settings.port,
    run: settings.run,
    policy: { allowActions: settings.allowActions, by: settings.by },
    showContent: settings.showContent,
    assets: await uiAssets(),
    now: settings.now,
  });
  settings.out(running.url);
  settings.err(
    `routing-manager console: serving ${settings.allowActions ? 'with actions enabled' : 'read-only'} ` +
      `on 127.0.0.1:${running.port}; open the URL above (it carries this run's token). Ctrl-C stops it.`,
  );
  await settings.stopped;
  await running.close();
}
