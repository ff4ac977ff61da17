/**
 * `routing-manager console`: a local web page over the CLI's own verbs. Hono (a small, maintained
 * web-standards framework) routes the requests and sets the security headers; @hono/node-server
 * serves them with node:http on 127.0.0.1 only. Every read is a verb run (panels.ts), every change
 * a verb run gated by actions.ts; the page's assets come from ui-assets.ts.
 */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as z from 'zod/mini';
import { type ActionPolicy, ActionRefusedError, changeBreaker, replayOrRedrive } from './actions.ts';
import { isWindowName, jobTimeline, overview, projectionHealth, rules, type WindowName } from './panels.ts';
import { contentSecurity, newToken, requireLoopbackHost, requireToken } from './security.ts';
import type { UiAssets } from './ui-assets.ts';
import type { RunVerb } from './verb-runner.ts';

export interface ConsoleOptions {
  /** 0: a free port. */
  readonly port: number;
  readonly run: RunVerb;
  readonly policy: ActionPolicy;
  readonly showContent: boolean;
  readonly assets: UiAssets;
  readonly now: () => Date;
  /** How often the page refreshes its panels. */
  readonly refreshSeconds?: number;
}

export interface RunningConsole {
  /** The URL to open, token included. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const MAX_BODY_BYTES = 16 * 1024;

const windowQuery = (value: string | undefined, fallback: WindowName): WindowName =>
  value !== undefined && isWindowName(value) ? value : fallback;

const text = z.string().check(z.maxLength(512));
const BreakerBody = z.object({
  mode: z.enum(['open', 'close', 'auto']),
  provider: text,
  model: z.optional(text),
  reason: text,
  confirm: text,
});
const WindowBody = z.object({
  incident: text,
  providers: z.array(text).check(z.maxLength(32)),
  window: z.enum(['15m', '1h', '6h', '24h']),
  reason: text,
  dryRun: z.boolean(),
  confirm: z.optional(text),
});

const page = (token: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Routing Manager console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css?token=${token}">
</head>
<body>
<div id="app"><p>Loading…</p></div>
<script src="/assets/console.js?token=${token}"></script>
</body>
</html>`;

/**
 * One run per panel and window at a time: pages (several tabs, several operators) asking while a
 * run is in flight share its answer instead of starting the same verbs again.
 */
function sharedInFlight<T>(compute: (window: WindowName) => Promise<T>): (window: WindowName) => Promise<T> {
  const inFlight = new Map<WindowName, Promise<T>>();
  return (window) => {
    const running = inFlight.get(window);
    if (running) return running;
    const started = compute(window).finally(() => inFlight.delete(window));
    inFlight.set(window, started);
    return started;
  };
}

export function consoleApp(options: ConsoleOptions, token: string, port: () => number): Hono {
  const { run, policy, showContent, assets, now } = options;
  const app = new Hono();
  app.use('*', requireLoopbackHost(port), requireToken(token), contentSecurity());
  app.use('*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });
  app.onError((error) => {
    if (error instanceof ActionRefusedError)
      return Response.json(
        { error: error.reason, message: error.message },
        { status: error.reason === 'read_only' ? 403 : 400 },
      );
    // The error's name only: a message could quote what was asked.
    return Response.json({ error: 'internal', message: error.name }, { status: 500 });
  });
  app.notFound(() => Response.json({ error: 'not_found', message: 'no such page' }, { status: 404 }));

  app.get('/', (c) => c.html(page(token)));
  app.get('/assets/console.js', (c) =>
    c.body(assets.script, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/assets/console.css', (c) =>
    c.body(assets.styles, 200, { 'content-type': 'text/css; charset=utf-8' }),
  );

  app.get('/api/config', (c) =>
    c.json({
      readOnly: !policy.allowActions,
      showContent,
      by: policy.by,
      refreshSeconds: options.refreshSeconds ?? 3,
    }),
  );
  const overviewOf = sharedInFlight((window) => overview(run, window, now()));
  const rulesOf = sharedInFlight((window) => rules(run, window, now()));
  const projectionOf = sharedInFlight((window) => projectionHealth(run, window, now()));
  app.get('/api/overview', async (c) => c.json(await overviewOf(windowQuery(c.req.query('window'), '15m'))));
  app.get('/api/rules', async (c) => c.json(await rulesOf(windowQuery(c.req.query('window'), '6h'))));
  app.get('/api/projection', async (c) =>
    c.json(await projectionOf(windowQuery(c.req.query('window'), '24h'))),
  );
  app.get('/api/jobs/:jobId', async (c) => c.json(await jobTimeline(run, c.req.param('jobId'), showContent)));

  const actions = new Hono();
  actions.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES }));
  actions.post('/breaker', async (c) => {
    const body = z.safeParse(BreakerBody, await c.req.json().catch(() => null));
    if (!body.success)
      return c.json({ error: 'invalid_request', message: 'mode, provider, reason, confirm' }, 400);
    return c.json(await changeBreaker(run, policy, body.data));
  });
  for (const kind of ['replay', 'redrive'] as const) {
    actions.post(`/${kind}`, async (c) => {
      const body = z.safeParse(WindowBody, await c.req.json().catch(() => null));
      if (!body.success)
        return c.json(
          { error: 'invalid_request', message: 'incident, providers, window, reason, dryRun' },
          400,
        );
      return c.json(await replayOrRedrive(run, policy, { kind, ...body.data }, now()));
    });
  }
  app.route('/api/actions', actions);
  return app;
}

/** Starts the console on 127.0.0.1; resolves once it listens. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const token = newToken();
  let port = options.port;
  const app = consoleApp(options, token, () => port);
  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname: LOOPBACK }, () =>
      resolve(started),
    );
    started.once('error', reject);
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
