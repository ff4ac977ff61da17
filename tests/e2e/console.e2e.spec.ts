/**
 * `routing-manager console` as an operator uses it: the live local stack, the console started
 * through the CLI, the printed URL opened in a real headless Chromium. Jobs are submitted on the
 * bus, found and read as a timeline; fal is failed until its breaker opens and the strip turns; a
 * replay is previewed. The token, the Host check and the read-only refusal are checked over HTTP.
 * Screenshots: tests/output/console/.
 */
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import type { LocalRun } from '../../src/local/run-local.ts';
import { aHeadlessChromium, SCREENSHOTS } from '../support/browser.ts';
import { aLiveLocalRun } from '../support/live-run.ts';
import { aSubmissionDetail } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

interface StartedConsole {
  readonly url: string;
  readonly stop: () => Promise<number>;
  readonly stderr: () => string;
}

let run: LocalRun;
let browser: Browser;
let page: Page;
let operatorConsole: StartedConsole;
const reports: string[] = [];
const erasedUser = `user-${Date.now().toString(36)}`;
const jobs = [
  aSubmissionDetail(),
  aSubmissionDetail(),
  aSubmissionDetail({ provider: 'replicate', userId: erasedUser }),
];
/** What the page logged as an error (a CSP violation, a script error): none is expected. */
const pageErrors: string[] = [];

/** `routing-manager console …` in-process, as the CLI runs it; resolves with the URL it printed. */
async function startConsole(...args: string[]): Promise<StartedConsole> {
  const stop = new AbortController();
  let stdout = '';
  let stderr = '';
  const exited = runCli(['console', '--stage', run.stack.stage, ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...process.env, ...run.environment },
    stop: stop.signal,
  });
  const url = await eventually(() => stdout.match(/^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/m)?.[0], {
    timeoutMs: 30_000,
    what: `the console's URL; stderr: ${stderr}`,
  });
  return {
    url,
    stderr: () => stderr,
    stop: async () => {
      stop.abort();
      return exited;
    },
  };
}

async function put(source: string, detailType: string, details: readonly unknown[]) {
  const events = new EventBridgeClient({});
  try {
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: details.map((detail) => ({
          EventBusName: run.stack.eventBusName,
          Source: source,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
        })),
      }),
    );
    expect(FailedEntryCount).toBe(0);
  } finally {
    events.destroy();
  }
}

/** An HTTP GET with chosen headers (a browser would not let a test forge Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  run = await aLiveLocalRun('c', reports);
  await put('frontend.api', 'video.job.submitted', jobs);
  operatorConsole = await startConsole('--allow-actions', '--by', 'ops@example.com');
  browser = await aHeadlessChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await operatorConsole?.stop();
  await run?.stop();
});

describe('routing-manager console in a real browser', () => {
  it('given the printed URL, when the page opens, then the provider strip shows every breaker closed and the page made no request elsewhere', async () => {
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(new URL(operatorConsole.url).origin)) elsewhere.push(request.url());
    });
    await page.goto(operatorConsole.url);
    await page.getByTestId('breaker-fal').waitFor();
    expect(await page.getByTestId('breaker-fal').getAttribute('data-status')).toBe('closed');
    expect(await page.getByTestId('mode').textContent()).toContain('actions enabled (ops@example.com)');
    // The real `capacity --json` read: the default rules set no concurrency for fal.
    expect(await page.getByTestId('provider-fal').getByTestId('capacity').textContent()).toContain(
      'capacity: unlimited (no concurrency set)',
    );
    expect(elsewhere).toEqual([]);
  });

  it('given submitted jobs, when one is searched, then its timeline shows the decision with every candidate, the dispatch and the Jobs status', async () => {
    const job = jobs[0] as { jobId: string };
    // The recent list fills as the live stack routes the jobs.
    await page.getByTestId('recent-jobs').getByText(job.jobId).waitFor({ timeout: 20_000 });
    await page.getByTestId('job-search').fill(job.jobId);
    await page.getByTestId('job-search-submit').click();
    const timeline = page.getByTestId('timeline');
    await timeline.getByText(`job ${job.jobId}`).waitFor();
    expect(await timeline.getByTestId('step-decided').textContent()).toMatch(
      /decided: routed → fal\/wan-i2v/,
    );
    expect(await timeline.getByTestId('step-dispatched').textContent()).toMatch(/dispatch .+:v1/);
    await eventually(
      async () => {
        await page.getByTestId('job-search-submit').click();
        return (await timeline.getByTestId('step-status').textContent())?.includes('ROUTED');
      },
      { what: 'the Jobs status in the timeline' },
    );
    expect(await timeline.getByTestId('step-content').textContent()).toContain('user content hidden');
    expect(await page.content()).not.toContain('corgi surfing');
    await shot('job-timeline');
  });

  it('given fal fails five times in a row, when the page refreshes, then its breaker turns open with a countdown and the transition is on the chart', async () => {
    const failures = Array.from({ length: 5 }, (_, i) => ({
      jobId: `fail-${i}-${run.stack.stage}`,
      provider: 'fal',
      dispatchId: `fail-${i}-${run.stack.stage}:v1`,
      outcome: 'failed_terminal',
      errorClass: 'server_error',
      latencyMs: 900,
      ts: new Date().toISOString(),
    }));
    await put('provider.invoker', 'provider.attempt.completed', failures);
    const fal = page.getByTestId('breaker-fal');
    await eventually(async () => (await fal.getAttribute('data-status')) === 'open', {
      timeoutMs: 20_000,
      what: 'the fal breaker open on the strip',
    });
    expect(await fal.getByTestId('countdown').textContent()).toMatch(/half-open in \d+:\d\d/);
    expect(await fal.textContent()).toMatch(/consecutive_failures: 5 consecutive failures/);
    // Open for routers at once (provisionally); the transition is recorded when the failures' window
    // closes (the live stack's window closer, within seconds of the window's end + 5 s grace + 35 s
    // settle: up to about 52 s after the failures).
    await page.getByTestId('transitions').getByText('closed → open').first().waitFor({ timeout: 90_000 });
    await shot('breaker-open');
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png') });
  }, 120_000);

  it('given the projection panel, then it shows the lag, the abandoned batches and what redrive --dry-run finds', async () => {
    const projection = page.getByTestId('projection');
    await projection.getByTestId('abandoned').waitFor();
    expect(await projection.getByTestId('abandoned').textContent()).toMatch(
      new RegExp(`0 waiting in RoutingProjector-OnFailure-${run.stack.stage}`),
    );
    expect(await projection.getByTestId('lag').textContent()).toContain('no data in the window');
    // The panel refreshes: once the live stack projected every job, nothing is owed.
    await eventually(async () => (await projection.getByTestId('owing').textContent()) === '0', {
      timeoutMs: 30_000,
      what: 'no record owing effects',
    });
  });

  it('given actions are allowed, when a replay is previewed, then the dry run says what would be appended and nothing is', async () => {
    await page.getByTestId('window-incident').fill('DRILL-1');
    await page.getByTestId('window-provider').selectOption('fal');
    await page.getByTestId('window-reason').fill('console drill');
    await page.getByTestId('window-preview').click();
    const preview = page.getByTestId('window-preview-result');
    await preview.waitFor();
    expect(await preview.textContent()).toMatch(
      /dry run: 2 record\(s\) would be appended, 2 decision\(s\) matched/,
    );
    expect(await preview.textContent()).toContain('routing-manager replay --incident=DRILL-1 --provider=fal');
    await shot('replay-preview');
    expect(await page.getByTestId('window-run').isDisabled()).toBe(true);
  });

  it('given everything above, then the page logged no error (no CSP violation, no script error)', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('the console guards its door', () => {
  it('given no token or a wrong one, when a page or an API is asked for, then it answers 401', async () => {
    const { origin } = new URL(operatorConsole.url);
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/api/overview?token=wrong`)).status).toBe(401);
    expect((await fetch(`${origin}/assets/console.js`)).status).toBe(401);
  });

  it('given another Host (DNS rebinding) or a foreign Origin, when asked even with the token, then it answers 403', async () => {
    const attacked = await rawGet(operatorConsole.url, {
      host: `evil.example:${new URL(operatorConsole.url).port}`,
    });
    expect(attacked.status).toBe(403);
    expect(JSON.parse(attacked.body)).toMatchObject({ error: 'host_not_allowed' });
    const foreign = await rawGet(operatorConsole.url, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
  });

  it('given a malformed action or an unknown path, then it answers 400 or 404 and runs nothing', async () => {
    const { origin, searchParams } = new URL(operatorConsole.url);
    const headers = {
      'x-console-token': searchParams.get('token') as string,
      'content-type': 'application/json',
      origin,
    };
    for (const path of ['/api/actions/breaker', '/api/actions/replay']) {
      const response = await fetch(`${origin}${path}`, {
        method: 'POST',
        headers,
        body: '{"mode":"explode"}',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    }
    const withoutOrigin = await fetch(`${origin}/api/actions/breaker`, {
      method: 'POST',
      headers: { 'x-console-token': headers['x-console-token'] },
      body: '{}',
    });
    expect(withoutOrigin.status).toBe(403);
    expect((await fetch(`${origin}/nothing-here`, { headers })).status).toBe(404);
  });

  it('given the page, then it is served with a Content-Security-Policy that allows only itself', async () => {
    const response = await fetch(operatorConsole.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('given a console started without --allow-actions, when an action is posted, then it is refused and nothing changes', async () => {
    const readOnly = await startConsole('--show-content');
    try {
      const { origin, searchParams } = new URL(readOnly.url);
      const token = searchParams.get('token') as string;
      const response = await fetch(`${origin}/api/actions/breaker`, {
        method: 'POST',
        headers: { 'x-console-token': token, 'content-type': 'application/json', origin },
        body: JSON.stringify({ mode: 'close', provider: 'fal', reason: 'try', confirm: 'fal' }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'read_only' });
      const readOnlyPage = await browser.newPage();
      await readOnlyPage.goto(readOnly.url);
      expect(await readOnlyPage.getByTestId('actions-mode').textContent()).toContain('read-only');
      // Started with --show-content: the timeline shows the job's retained content.
      await readOnlyPage.getByTestId('job-search').fill((jobs[1] as { jobId: string }).jobId);
      await readOnlyPage.getByTestId('job-search-submit').click();
      await readOnlyPage.getByTestId('step-content').getByText('corgi surfing').waitFor();
      // An erased user's content is shown as shredded, with the erasure on the timeline.
      const forgot = await runCli(
        ['forget', '--stage', run.stack.stage, '--user', erasedUser, '--why', 'request 42'],
        {
          stdout: { write: () => true },
          stderr: { write: () => true },
          env: { ...process.env, ...run.environment },
        },
      );
      expect(forgot).toBe(0);
      await readOnlyPage.getByTestId('job-search').fill((jobs[2] as { jobId: string }).jobId);
      await readOnlyPage.getByTestId('job-search-submit').click();
      await readOnlyPage.getByTestId('step-erased').waitFor();
      expect(await readOnlyPage.getByTestId('step-content').textContent()).toContain(
        'user content erased (shredded)',
      );
      await readOnlyPage.screenshot({ path: join(SCREENSHOTS, 'erased-content.png'), fullPage: true });
      await readOnlyPage.close();
      // fal is not forced closed: the refused action recorded nothing. (Its open period may have run
      // out by now — the opening is recorded only when its window closes, up to ~50 s after the
      // failures — so it is open or half-open, never closed.)
      expect(['open', 'half_open']).toContain(
        await page.getByTestId('breaker-fal').getAttribute('data-status'),
      );
    } finally {
      expect(await readOnly.stop()).toBe(0);
    }
  });
});
