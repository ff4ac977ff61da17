/**
 * The operator's view of predicted completion times, against the emulators: `capacity` shows each
 * model's ETA p50/p95, success rate and windows; `what-if --rules FILE` re-decides with a table that
 * prefers eta using the recorded windows, and reports the measured cost error.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { routerDependencies } from '../../src/handlers/router.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { completedFact, WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
import { countSignals } from '../../src/provider-health/window-counting.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { runCliOn } from '../support/cli-run.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
const documents = createDocumentClient();

beforeAll(async () => {
  stack = await aProvisionedStack();
  const windows = new DynamoDbSignalWindows(documents, stack.tables.providerHealth, { windowMs: WINDOW_MS });
  const now = Date.now();
  const runs: [string, string, number, string, number?][] = [
    ['fal', 'wan-i2v', 600_000, 'succeeded', 0.5],
    ['fal', 'wan-i2v', 600_000, 'succeeded', 0.5],
    ['fal', 'wan-i2v', 0, 'failed_terminal'],
    ['replicate', 'wan-2.1-i2v', 60_000, 'succeeded'],
  ];
  for (const [i, [provider, model, runMs, outcome, costUsd]] of runs.entries()) {
    await countSignals(
      [
        completedFact({
          key: `${stack.stage}-${i}`,
          atMs: now,
          provider,
          model,
          outcome,
          errorClass: outcome === 'succeeded' ? null : 'server_error',
          runMs,
          ...(costUsd === undefined ? {} : { costUsd }),
          job: { resolution: '720p', lengthSec: 8 },
        }),
      ],
      { windows, now: () => now },
    );
  }
});

const cli = (...argv: string[]) =>
  runCliOn(stack.stage, argv, { env: { ...process.env, USER: 'ops' }, now: () => new Date() });

describe('operator views of predicted completion time (emulators)', () => {
  it('given run times recorded, when capacity is asked, then each model shows its ETA, success rate and windows, in JSON and as a table', async () => {
    const json = await cli('--output', 'json', 'capacity');
    expect(json.code).toBe(0);
    const [fal, replicate] = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(fal.models).toEqual([
      {
        model: 'wan-i2v',
        etaP50Sec: 820,
        etaP95Sec: 820,
        basis: 'model',
        samples: 2,
        successRate: 0.667,
        window: { from: expect.any(String), to: expect.any(String) },
      },
    ]);
    expect(replicate.models[0]).toMatchObject({ etaP95Sec: 73, samples: 1, successRate: 1 });
    const table = await cli('capacity');
    expect(table.stdout).toMatch(/fal\s+wan-i2v\s+820s\s+820s\s+model, 2 samples\s+66\.7%/);
  });

  it('given a candidate table preferring eta, when what-if re-decides logged auto jobs, then they move to Replicate and the cost error is reported', async () => {
    const deps = routerDependencies(loadRouterConfig(handlerEnvironment(stack)));
    for (let i = 0; i < 2; i++) {
      await routeJob({ type: 'RouteJob', data: { event: aSubmittedEvent(aSubmissionDetail()) } }, deps);
    }
    // A directory of its own, removed once read: the run leaves nothing in the temporary directory.
    const dir = await mkdtemp(join(tmpdir(), 'prefer-eta-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'table.json');
    await writeFile(
      file,
      JSON.stringify({
        ...defaultRoutingTable,
        version: 'prefer-eta',
        usdPerCredit: 1,
        rules: defaultRoutingTable.rules.map((rule) =>
          rule.id === 'auto-short-720p-fal' ? { ...rule, prefer: 'eta' } : rule,
        ),
      }),
    );
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const result = await cli(
      '--output',
      'json',
      'what-if',
      '--rules',
      file,
      '--since',
      since,
      '--until',
      until,
    );
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.transitions).toContainEqual({
      from: 'fal/wan-i2v',
      to: 'replicate/wan-2.1-i2v',
      count: 2,
    });
    // fal charged $1 for 16 s of output: $0.0625/s against 0.05 credits/s × $1 = +25 %.
    expect(summary.costError).toEqual([
      { provider: 'fal', model: 'wan-i2v', error: 0.25, chargedUsd: 1, outputSec: 16 },
    ]);
    const text = await cli('what-if', '--rules', file, '--since', since, '--until', until);
    expect(text.stdout).toMatch(/fal\s+wan-i2v\s+\$1\s+16s\s+\+25\.0%/);
  });
});
