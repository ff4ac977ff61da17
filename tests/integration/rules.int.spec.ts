/**
 * Rules as records on the emulators: the rules log contract on DynamoDB Local, and the operator's
 * loop — publish (refused by the what-if gate, then forced), the router picking the new version up,
 * shadow, canary, promote, rollback, history, diff, export — through the real CLI and router.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../../src/aws/dynamodb-rules-log.ts';
import { createRouterHandler } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import type { DecisionRecord } from '../../src/log/routing-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { rulesVersionOf } from '../../src/routing/routing-table.ts';
import { CachedActiveRules } from '../../src/rules/active-rules.ts';
import { runCliOn } from '../support/cli-run.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aTableRoutingAutoTo } from '../support/rules.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { routerPortsOn } from '../support/stack-router.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
let route: (detail: Record<string, unknown>) => Promise<void>;
const documents = createDocumentClient();
const routingLog = () => new DynamoDbRoutingLog(documents, stack.tables.routingLog);
const toReplicate = aTableRoutingAutoTo('replicate', 'auto-to-replicate');
let candidateFile: string;

const cli = (...argv: string[]) => runCliOn(stack.stage, argv, { env: { ...process.env, USER: 'operator' } });

async function decisionOf(detail: Record<string, unknown>) {
  await route(detail);
  const [record] = await routingLog().readStream(`job#${detail.jobId as string}`);
  return record as DecisionRecord;
}

beforeAll(async () => {
  stack = await aProvisionedStack();
  silenceHandlerTelemetry();
  // The real router on the stack's log, reading the rules without a cache (ttl 0) so each
  // decision sees the rules the previous command left.
  const router = createRouterHandler(
    routerPortsOn(stack, documents, {
      log: routingLog(),
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
  // A recent window for the gate: explicit requests and auto jobs decided by the default table.
  for (const detail of [
    aSubmissionDetail(),
    aSubmissionDetail({ lengthSec: 4 }),
    aSubmissionDetail({ provider: 'fal' }),
    aSubmissionDetail({ provider: 'replicate' }),
  ])
    await route(detail);
});

afterAll(removeEventDirectories);

describe('publishing rules through the what-if gate', () => {
  it('given a candidate that raises the cost, when published, then it is refused with the diff and exit 4, and nothing changes', async () => {
    const refused = await cli('rules', 'publish', candidateFile, '--why', 'replicate is cheaper now');
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/fal\/wan-i2v\s+replicate\/wan-2\.1-i2v\s+2/);
    expect(refused.stdout).toMatch(/estimated cost .* > 5%/);
    // The refusal says what next: the flags that override it.
    expect(refused.stdout).toContain('refused because:');
    expect(refused.stdout).toContain('--max-cost-increase PERCENT');
    expect(refused.stdout).toContain('publish anyway with --force');
    expect(refused.stderr).toContain('the what-if gate refused');
    expect((await cli('rules', 'history', '--json')).stdout).toBe('');
    expect((await decisionOf(aSubmissionDetail())).data.explanation?.rulesVersion).toBe(
      rulesVersionOf(defaultRoutingTable),
    );
  });

  it('given --force, when published, then the record says forced, and the router decides with the new version', async () => {
    const forced = await cli(
      'rules',
      'publish',
      candidateFile,
      '--why',
      'accepted cost',
      '--force',
      '--json',
    );
    expect(forced.code).toBe(0);
    expect(forced.json()).toMatchObject({
      outcome: 'appended',
      record: { action: 'publish', forced: true, by: 'operator', subject: rulesVersionOf(toReplicate) },
    });
    const decided = await decisionOf(aSubmissionDetail());
    expect(decided).toMatchObject({
      data: { provider: 'replicate', explanation: { rulesVersion: rulesVersionOf(toReplicate) } },
    });
    const exported = await cli('rules', 'export');
    expect(rulesVersionOf(JSON.parse(exported.stdout))).toBe(rulesVersionOf(toReplicate));
    const diff = await cli('rules', 'diff', 'default', 'active');
    expect(diff.stdout).toMatch(/changed\s+rule auto-short-720p-fal/);
  });

  it('given a shadow candidate, when jobs are decided, then each carries the shadow result and the decision is the active one', async () => {
    const shadowFile = join(await anEventDirectory({ 'shadow.json': defaultRoutingTable }), 'shadow.json');
    expect((await cli('rules', 'shadow', shadowFile, '--why', 'compare with the seed')).code).toBe(0);
    const decided = await decisionOf(aSubmissionDetail());
    expect(decided).toMatchObject({
      data: {
        provider: 'replicate',
        shadow: { provider: 'fal', model: 'wan-i2v', rulesVersion: rulesVersionOf(defaultRoutingTable) },
      },
    });
    expect((await cli('history', decided.metadata.jobId as string)).stdout).toMatch(
      /shadow 2026-11-25\.seed-\d+@\w+ would have routed to fal\/wan-i2v \(not acted on\)/,
    );
    const report = await cli('rules', 'shadow-report', '--since', '1h', '--json');
    expect(report.json()).toMatchObject({
      shadowed: 1,
      agreed: 0,
      moves: [{ from: 'replicate/wan-2.1-i2v', to: 'fal/wan-i2v', count: 1 }],
    });
    expect((await cli('rules', 'shadow', '--stop', '--why', 'seen enough')).code).toBe(0);
    expect(await decisionOf(aSubmissionDetail())).not.toHaveProperty('shadow');
  });

  it('given a canary on 100 %, when promoted, then every job uses it and it becomes the active version', async () => {
    const fal = aTableRoutingAutoTo('fal', 'fal-again');
    const falFile = join(await anEventDirectory({ 'fal.json': fal }), 'fal.json');
    expect((await cli('rules', 'canary', falFile, '--percent', '100', '--why', 'try fal again')).code).toBe(
      0,
    );
    const decided = await decisionOf(aSubmissionDetail());
    expect(decided).toMatchObject({
      data: {
        provider: 'fal',
        explanation: { rulesVersion: rulesVersionOf(fal), canary: { percent: 100, used: true } },
      },
    });
    expect((await cli('history', decided.metadata.jobId as string)).stdout).toMatch(
      /canary fal-again@\w+ on 100%: bucket \d+, decided by the canary/,
    );
    expect((await cli('rules', 'promote', '--why', 'canary healthy')).code).toBe(0);
    expect((await decisionOf(aSubmissionDetail())).data.explanation).toMatchObject({
      rulesVersion: rulesVersionOf(fal),
    });
  });

  it('given rollbacks, when run, then the previous versions come back one by one, down to the bundled default', async () => {
    expect((await cli('rules', 'rollback', '--why', 'fal is flaky')).code).toBe(0);
    expect((await decisionOf(aSubmissionDetail())).data.explanation?.rulesVersion).toBe(
      rulesVersionOf(toReplicate),
    );
    expect((await cli('rules', 'rollback', '--why', 'back to the seed')).code).toBe(0);
    expect((await decisionOf(aSubmissionDetail())).data.explanation?.rulesVersion).toBe(
      rulesVersionOf(defaultRoutingTable),
    );
    const history = await cli('rules', 'history');
    expect(history.stdout).toMatch(/publish \(forced\)/);
    expect(history.stdout.split('\n').filter((line) => /rollback/.test(line))).toHaveLength(2);
    const refused = await cli('rules', 'rollback', '--why', 'again');
    expect(refused.code).toBe(4);
  });
});

describe('rules commands asked the wrong way', () => {
  it('given a change without --why, a shadow or canary without a table or --stop, or a canary without --percent, then each is a usage error', async () => {
    expect((await cli('rules', 'rollback')).code).toBe(2);
    expect((await cli('rules', 'shadow', '--why', 'x')).code).toBe(2);
    expect((await cli('rules', 'canary', candidateFile, '--why', 'x')).code).toBe(2);
    expect((await cli('rules', 'canary', candidateFile, '--percent', '101', '--why', 'x')).code).toBe(2);
    expect(
      (await cli('rules', 'publish', candidateFile, '--max-cost-increase', '-1', '--why', 'x')).code,
    ).toBe(2);
  });

  it('given a version that does not exist, when diffed, then it is a usage error naming it; a label or a prefix finds a published one', async () => {
    const missing = await cli('rules', 'diff', 'active', 'no-such-version');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no published rules version, file or keyword matches "no-such-version"');
    const byPrefix = await cli('rules', 'export', '--version', 'fal-ag');
    expect(JSON.parse(byPrefix.stdout)).toMatchObject({ version: 'fal-again' });
    const byLabel = await cli('rules', 'export', '--version', 'auto-to-replicate');
    expect(rulesVersionOf(JSON.parse(byLabel.stdout))).toBe(rulesVersionOf(toReplicate));
    expect((await cli('rules', 'diff', 'default', 'default')).stdout).toContain('route identically');
    expect((await cli('rules', 'diff', 'default', candidateFile, '--json')).json()).toMatchObject({
      changes: [
        { kind: 'changed', what: 'version' },
        { kind: 'changed', what: 'rule auto-short-720p-fal', field: 'route.model', after: 'wan-2.1-i2v' },
        { kind: 'changed', what: 'rule auto-short-720p-fal', field: 'route.provider', after: 'replicate' },
      ],
    });
    // Every version the product prints is accepted back: history prints the bundled default's too.
    const printed = rulesVersionOf(defaultRoutingTable);
    const exportedDefault = await cli('rules', 'export', '--version', printed);
    expect(exportedDefault.code).toBe(0);
    expect(rulesVersionOf(JSON.parse(exportedDefault.stdout))).toBe(printed);
    expect((await cli('rules', 'diff', printed, rulesVersionOf(toReplicate))).code).toBe(0);
  });

  it('given a dry run, when published, then the gate prints and nothing is appended', async () => {
    const before = (await cli('rules', 'history', '--json')).stdout;
    const dry = await cli('rules', 'publish', candidateFile, '--dry-run');
    expect(dry.code).toBe(4);
    expect(dry.stdout).toContain('dry run: nothing changed');
    const json = await cli(
      'rules',
      'publish',
      candidateFile,
      '--dry-run',
      '--json',
      '--max-cost-increase',
      '1000',
    );
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ dryRun: true, gate: { violations: [] } });
    expect((await cli('rules', 'history', '--json')).stdout).toBe(before);
  });

  it('given a shadow that is not running, when stopped, then nothing changes; the shadow report prints as text', async () => {
    const stop = await cli('rules', 'shadow', '--stop', '--why', 'x');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('unchanged: no shadow is running');
    expect((await cli('rules', 'shadow-report', '--since', '1h')).stdout).toMatch(
      /agreement: +0 \(0%\)[\s\S]*replicate\/wan-2\.1-i2v/,
    );
  });
});
