/**
 * The console's panels on the emulators, through the real CLI verbs in-process (the runner the
 * `console` verb builds): the shapes the verbs print are the shapes the panels read. Rules are
 * shadowed and put in canary, decisions are made by the real router.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRulesLog } from '../../src/aws/dynamodb-rules-log.ts';
import { forwardedOptions, inProcessVerbs } from '../../src/cli/in-process-verbs.ts';
import { runCli } from '../../src/cli/main.ts';
import { jobTimeline, overview, rules } from '../../src/console/panels.ts';
import type { RunVerb } from '../../src/console/verb-runner.ts';
import { createRouterHandler } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { rulesVersionOf } from '../../src/routing/routing-table.ts';
import { CachedActiveRules } from '../../src/rules/active-rules.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aTableRoutingAutoTo } from '../support/rules.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { routerPortsOn } from '../support/stack-router.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
let run: RunVerb;
let route: (detail: Record<string, unknown>) => Promise<void>;
const documents = createDocumentClient();
const toReplicate = aTableRoutingAutoTo('replicate', 'auto-to-replicate');
let candidateFile: string;
const first = aSubmissionDetail();

beforeAll(async () => {
  stack = await aProvisionedStack();
  silenceHandlerTelemetry();
  const router = createRouterHandler(
    routerPortsOn(stack, documents, {
      rules: new CachedActiveRules(new DynamoDbRulesLog(documents, stack.tables.routingLog), {
        defaultTable: defaultRoutingTable,
        ttlMs: 0,
        now: Date.now,
      }),
      newId: randomUUID,
    }),
    createTelemetry('router'),
  );
  route = async (detail) => {
    await router(aSubmittedEvent(detail), aLocalLambdaContext());
  };
  candidateFile = join(await anEventDirectory({ 'candidate.json': toReplicate }), 'candidate.json');
  run = inProcessVerbs(
    runCli,
    { env: { ...process.env, USER: 'ops' } },
    forwardedOptions({ stage: stack.stage }),
  );
  await route(first);
  await route(aSubmissionDetail({ lengthSec: 30 }));
});

afterAll(removeEventDirectories);

describe('the console panels on the emulators', () => {
  it('given decisions, then the overview counts them per provider and reason and lists them newest first', async () => {
    const panel = await overview(run, '15m', new Date());
    expect(panel.error).toBeNull();
    const labels = panel.data?.series.series.map((s) => [s.label, s.counts.reduce((a, b) => a + b, 0)]);
    expect(labels).toEqual([
      ['rejected no_route', 1],
      ['routed fal', 1],
    ]);
    expect(panel.data?.recent.at(-1)).toMatchObject({ jobId: first.jobId, outcome: 'routed', panic: false });
    expect(panel.data?.providers.find((p) => p.provider === 'fal')?.breakers.map((b) => b.breaker)).toEqual([
      'fal',
      'fal#wan-i2v',
    ]);
    expect(panel.commands[0]).toBe('routing-manager health');
  });

  it('given a job, then its timeline panel holds its decision and its Jobs projection as history prints them', async () => {
    const panel = await jobTimeline(run, first.jobId as string, false);
    expect(panel.data).toMatchObject({
      jobId: first.jobId,
      records: [{ type: 'RoutingDecided', version: 1, dispatchId: `${first.jobId}:v1` }],
      content: { status: 'hidden' },
    });
    expect(JSON.stringify(panel.data)).not.toContain('corgi surfing');
  });

  it('given a shadow candidate and decisions beside it, then the rules panel shows it, its diff and its agreement per slice', async () => {
    const cli = (...argv: string[]) =>
      runCli(['--stage', stack.stage, ...argv], {
        stdout: { write: () => true },
        stderr: { write: () => true },
        env: { ...process.env, USER: 'ops' },
      });
    expect(await cli('rules', 'shadow', candidateFile, '--why', 'compare')).toBe(0);
    for (let i = 0; i < 3; i++) await route(aSubmissionDetail());
    const panel = await rules(run, '15m', new Date());
    expect(panel.error).toBeNull();
    expect(panel.data).toMatchObject({
      active: 'bundled default',
      shadow: rulesVersionOf(toReplicate),
      canary: null,
      diff: { a: 'active', b: rulesVersionOf(toReplicate) },
    });
    expect(panel.data?.diff?.changes).toContainEqual(
      expect.objectContaining({ kind: 'changed', what: 'rule auto-short-720p-fal' }),
    );
    const agreement = panel.data?.agreement ?? [];
    expect(agreement).toHaveLength(6);
    expect(agreement.reduce((total, slice) => total + slice.shadowed, 0)).toBe(3);
    expect(agreement.at(-1)).toMatchObject({ shadowed: 3, agreementRate: 0 });

    expect(await cli('rules', 'shadow', '--stop', '--why', 'seen')).toBe(0);
    expect(await cli('rules', 'canary', candidateFile, '--percent', '25', '--why', 'ramp')).toBe(0);
    const ramped = await rules(run, '15m', new Date());
    expect(ramped.data).toMatchObject({ canary: { rulesVersion: rulesVersionOf(toReplicate), percent: 25 } });
    expect(ramped.data?.history.map((r) => r.action)).toEqual(['canary', 'shadow-stop', 'shadow']);
  });

  it("given an operator limits fal's concurrency (after the canary is rolled back), then the overview's fal strip shows its slot ledger as `capacity --json` reads it", async () => {
    const before = await overview(run, '15m', new Date());
    expect(before.data?.capacityError).toBeNull();
    expect(before.data?.providers.find((p) => p.provider === 'fal')?.capacity).toMatchObject({ limit: null });
    const quiet = { write: () => true };
    const cli = (...argv: string[]) =>
      runCli(['--stage', stack.stage, ...argv], {
        stdout: quiet,
        stderr: quiet,
        env: { ...process.env, USER: 'ops' },
      });
    // The rules test left a canary running: a capacity change is refused until it is promoted or rolled back.
    expect(await cli('rules', 'rollback', '--why', 'canary seen')).toBe(0);
    expect(await cli('capacity', 'set', 'fal', '4', '--why', 'drill')).toBe(0);
    const after = await overview(run, '15m', new Date());
    expect(after.commands).toContain('routing-manager capacity --json');
    expect(after.data?.providers.find((p) => p.provider === 'fal')?.capacity).toMatchObject({
      provider: 'fal',
      limit: 4,
      inFlight: 0,
      free: 4,
    });
  });
});
