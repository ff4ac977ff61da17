/**
 * The console's logic without a browser or AWS: which verbs each panel runs and what it makes of
 * their answers, the action gate, the chart's buckets, the token. The verbs are scripted here (the
 * Chromium and emulator tests run the real ones).
 */
import { describe, expect, it } from 'vitest';
import { periodSecondsOf } from '../../src/aws/projector-backlog.ts';
import { forwardedOptions } from '../../src/cli/in-process-verbs.ts';
import { runCli } from '../../src/cli/main.ts';
import { type ChangeRules, decideRulesChange } from '../../src/commands/change-rules.ts';
import { ActionRefusedError, changeBreaker, replayOrRedrive } from '../../src/console/actions.ts';
import { consoleApp } from '../../src/console/console-server.ts';
import { bucketSecondsOf, decisionSeries } from '../../src/console/decision-series.ts';
import { jobTimeline, overview, projectionHealth, rules, windowOf } from '../../src/console/panels.ts';
import { allowedHosts, newToken, tokenMatches } from '../../src/console/security.ts';
import { capacityText } from '../../src/console/ui/providers.ts';
import type { RunVerb, VerbRun } from '../../src/console/verb-runner.ts';
import { type GateReport, rulesItemOf, rulesStateOf } from '../../src/log/rules-records.ts';
import { rulesVersionOf } from '../../src/routing/routing-table.ts';
import { aTableRejectingEverything, aTableRoutingAutoTo, publish, rulesRecordsOf } from '../support/rules.ts';

const NOW = new Date('2026-11-25T12:00:00.000Z');

/** A scripted CLI: the first answer whose key the command line starts with; records every run. */
function scripted(answers: Record<string, Partial<VerbRun> | unknown[]>) {
  const ran: string[][] = [];
  const run: RunVerb = async (argv) => {
    ran.push([...argv]);
    const line = argv.join(' ');
    const key = Object.keys(answers)
      .filter((k) => line.startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    const answer = key === undefined ? [] : answers[key];
    const base = { commandLine: `routing-manager ${line}`, code: 0, stdout: '', stderr: '' };
    if (Array.isArray(answer)) return { ...base, stdout: answer.map((a) => JSON.stringify(a)).join('\n') };
    return { ...base, ...answer };
  };
  return { run, ran };
}

const breaker = (name: string, overrides: Record<string, unknown> = {}) => ({
  breaker: name,
  status: 'closed',
  recordedStatus: 'closed',
  mode: 'auto',
  since: null,
  reason: '',
  detail: '',
  openUntil: null,
  version: 0,
  probe: null,
  window: { attempts: 0, failures: 0, successRate: null },
  ...overrides,
});

describe('the overview panel', () => {
  it('given breakers, decisions and a transition, then it groups breakers by provider, counts panic decisions and marks the transition', async () => {
    const { run, ran } = scripted({
      health: [breaker('fal', { status: 'open', version: 1 }), breaker('fal#wan-i2v'), breaker('replicate')],
      decisions: [
        {
          recordedAt: '2026-11-25T11:30:00.000Z',
          outcome: 'routed',
          provider: 'fal',
          reason: null,
          panic: true,
          jobId: 'j1',
        },
        {
          recordedAt: '2026-11-25T11:31:00.000Z',
          outcome: 'rejected',
          provider: null,
          reason: 'no_route',
          panic: false,
          jobId: 'j2',
        },
      ],
      'history -- health#fal': [
        {
          records: [
            {
              type: 'ProviderHealthChanged',
              transition: {
                key: 'fal',
                version: 1,
                previousStatus: 'closed',
                status: 'open',
                reason: 'consecutive_failures',
                at: '2026-11-25T11:45:00.000Z',
              },
            },
          ],
        },
      ],
      'history -- health#fal#wan-i2v': {
        code: 3,
        stderr: 'routing-manager: no routing record for job health#fal#wan-i2v',
      },
      'history -- health#replicate': { code: 3, stderr: 'routing-manager: no routing record' },
    });
    const panel = await overview(run, '1h', NOW);
    expect(panel.error).toBeNull();
    expect(
      panel.data?.providers.map((p) => [p.provider, p.breakers.length, p.panicDecisions, p.routed]),
    ).toEqual([
      ['fal', 2, 1, 1],
      ['replicate', 1, 0, 0],
    ]);
    expect(panel.data?.series.transitions).toEqual([
      {
        at: '2026-11-25T11:45:00.000Z',
        breaker: 'fal',
        version: 1,
        from: 'closed',
        to: 'open',
        reason: 'consecutive_failures',
      },
    ]);
    expect(panel.data?.recent.map((r) => r.jobId)).toEqual(['j2', 'j1']);
    expect(ran).toContainEqual([
      'decisions',
      '--provider=fal,replicate,auto,none',
      '--since=2026-11-25T11:00:00.000Z',
      '--until=2026-11-25T12:00:00.000Z',
    ]);
    expect(panel.commands).toHaveLength(6);
    expect(panel.commands.slice(0, 2)).toEqual(['routing-manager health', 'routing-manager capacity --json']);
  });

  it("given the rules limit a provider's concurrency, then its strip carries its slot ledger as `capacity --json` prints it, extra columns included, and a provider with a limit but no breaker is listed too", async () => {
    const fal = {
      provider: 'fal',
      limit: 4,
      inFlight: 3,
      expired: 1,
      free: 0,
      shards: 1,
      jobTimeoutSec: 600,
      rulesVersion: 'r@1',
      held: 2,
      etaSeconds: 90,
    };
    const replicate = {
      ...fal,
      provider: 'replicate',
      limit: null,
      inFlight: null,
      expired: null,
      free: null,
    };
    const { run, ran } = scripted({ health: [breaker('fal')], 'capacity --json': [fal, replicate] });
    const panel = await overview(run, '15m', NOW);
    expect(panel.error).toBeNull();
    expect(panel.data?.capacityError).toBeNull();
    expect(panel.data?.providers.map((p) => [p.provider, p.breakers.length, p.capacity])).toEqual([
      ['fal', 1, fal],
      ['replicate', 0, replicate],
    ]);
    expect(ran).toContainEqual(['capacity', '--json']);
    expect(ran.find((argv) => argv[0] === 'decisions')).toContain('--provider=fal,replicate,auto,none');
    expect(capacityText(fal, null)).toBe(
      'capacity: 3 of 4 in flight, 0 free · 1 expired (unswept) · held: 2 · etaSeconds: 90',
    );
    expect(capacityText(replicate, null)).toBe(
      'capacity: unlimited (no concurrency set) · held: 2 · etaSeconds: 90',
    );
    expect(capacityText(null, null)).toBe('capacity: not in the rules in force');
  });

  it('given the capacity verb fails, then breakers and decisions still show and the strip says why capacity is missing', async () => {
    const { run } = scripted({
      health: [breaker('fal')],
      'capacity --json': { code: 2, stderr: 'routing-manager: table ProviderHealth-dev not found\n' },
    });
    const panel = await overview(run, '15m', NOW);
    expect(panel.error).toBeNull();
    expect(panel.data?.providers.map((p) => [p.provider, p.capacity])).toEqual([['fal', null]]);
    expect(panel.data?.capacityError).toEqual({
      command: 'routing-manager capacity --json',
      exitCode: 2,
      message: 'table ProviderHealth-dev not found',
    });
    expect(capacityText(null, panel.data?.capacityError ?? null)).toBe(
      'capacity: unavailable (table ProviderHealth-dev not found)',
    );
  });

  it('given a verb that fails, then the panel carries its command and the CLI message instead of data', async () => {
    const { run } = scripted({
      health: { code: 1, stderr: 'routing-manager: table ProviderHealth-dev not found\n' },
    });
    const panel = await overview(run, '15m', NOW);
    expect(panel.data).toBeNull();
    expect(panel.error).toEqual({
      command: 'routing-manager health',
      exitCode: 1,
      message: 'table ProviderHealth-dev not found',
    });
  });
});

describe('the job panel', () => {
  it('given a job id that looks like an option, then it is passed after -- (never taken for one), with --show-content only when allowed', async () => {
    const { run, ran } = scripted({ history: [{ jobId: '--help' }] });
    expect((await jobTimeline(run, '--help', false)).data).toEqual({ jobId: '--help' });
    await jobTimeline(run, 'j1', true);
    expect(ran).toEqual([
      ['history', '--', '--help'],
      ['history', '--show-content', '--', 'j1'],
    ]);
  });

  it('given an unknown job, then the panel says not found', async () => {
    const { run } = scripted({
      history: { code: 3, stderr: 'routing-manager: no routing record for job x' },
    });
    expect((await jobTimeline(run, 'x', false)).error?.exitCode).toBe(3);
  });
});

/** The lines `rules history --json` prints for these changes: real records, as stored. */
const historyOf = (commands: readonly ChangeRules[]) => rulesRecordsOf(commands).map(rulesItemOf);
const by = { by: 'ops', why: 'test' };
const tableA = aTableRoutingAutoTo('replicate', 'a');
const tableB = aTableRoutingAutoTo('fal', 'b');
const tableC = aTableRejectingEverything('c');
const versionOf = (table: typeof tableA) => rulesVersionOf(table);

describe('the rules panel', () => {
  it('given nothing published, then the bundled default is active and nothing else runs', async () => {
    const { run, ran } = scripted({ 'rules history': [] });
    const panel = await rules(run, '6h', NOW);
    expect(panel.data).toMatchObject({
      active: 'bundled default',
      shadow: null,
      canary: null,
      diff: null,
      agreement: [],
    });
    expect(ran).toEqual([['rules', 'history']]);
  });

  it('given a running canary, then it shows its share and diffs it against the active table', async () => {
    const { run, ran } = scripted({
      'rules history': historyOf([
        publish(tableA),
        { type: 'CanaryRules', data: { ...by, table: tableB, percent: 10 } },
      ]),
      'rules diff': [{ a: 'active', b: 'b', changes: [{ kind: 'changed', what: 'rule r1' }] }],
    });
    const panel = await rules(run, '6h', NOW);
    expect(panel.data).toMatchObject({
      active: versionOf(tableA),
      canary: { rulesVersion: versionOf(tableB), percent: 10 },
      agreement: [],
    });
    expect(panel.data?.diff?.changes).toHaveLength(1);
    expect(panel.data?.history.map((r) => r.version)).toEqual([2, 1]);
    expect(ran).toContainEqual(['rules', 'diff', '--', 'active', versionOf(tableB)]);
  });

  it('given a shadow, then the agreement is reported per slice of the window, and the diff is shadow vs active', async () => {
    const { run, ran } = scripted({
      'rules history': historyOf([{ type: 'ShadowRules', data: { ...by, table: tableC } }]),
      'rules diff': [{ a: 'active', b: 'c', changes: [] }],
      'rules shadow-report': [{ shadowed: 4, agreementRate: 75 }],
    });
    const panel = await rules(run, '6h', NOW);
    expect(panel.data).toMatchObject({ active: 'bundled default', shadow: versionOf(tableC) });
    expect(panel.data?.agreement).toHaveLength(6);
    expect(panel.data?.agreement[0]).toEqual({
      since: '2026-11-25T06:00:00.000Z',
      until: '2026-11-25T07:00:00.000Z',
      shadowed: 4,
      agreementRate: 75,
    });
    expect(ran).toContainEqual(['rules', 'diff', '--', 'active', versionOf(tableC)]);
  });

  it('given a later publication, then the diff is the previous active table vs the active one', async () => {
    const { run, ran } = scripted({ 'rules history': historyOf([publish(tableA), publish(tableB)]) });
    await rules(run, '1h', NOW);
    expect(ran).toContainEqual(['rules', 'diff', '--', versionOf(tableA), 'active']);
  });

  it('given a first publication only, then no earlier record left another table active: no diff runs', async () => {
    const { run, ran } = scripted({ 'rules history': historyOf([publish(tableA)]) });
    expect((await rules(run, '1h', NOW)).data?.diff).toBeNull();
    expect(ran).toEqual([['rules', 'history']]);
  });

  it('given a rollback and then a forced publication, when the panel loads after each, then its previous active is the fold’s latest change of the active table (the version replaced), not a scan and not the rollback target', async () => {
    const rolledBack: ChangeRules[] = [publish(tableA), publish(tableB), { type: 'RollbackRules', data: by }];
    // The forced publication: C went past a what-if gate that refused it (--force), recorded `forced`.
    const refusingGate: GateReport = {
      since: '2026-11-24T10:00:00.000Z',
      until: '2026-11-25T10:00:00.000Z',
      scanned: 10,
      changed: 10,
      explicitProviderChanges: 0,
      rejectionRate: { before: 0, after: 1 },
      cost: { before: 1, after: 0, delta: -1 },
      transitions: [],
      violations: ['rejection rate 0% → 100%'],
    };
    const forcedRecord = (() => {
      const decision = decideRulesChange(
        rulesStateOf(rulesRecordsOf(rolledBack)),
        { type: 'PublishRules', data: { ...by, table: tableC, gate: null, force: true } },
        '2026-11-25T13:00:00.000Z',
        refusingGate,
      );
      if (decision.outcome !== 'append') throw new Error(`not appended: ${decision.outcome}`);
      return decision.record;
    })();
    const forced = [...rulesRecordsOf(rolledBack), forcedRecord];
    // Given the rollback (B → A): the latest change replaced B, while a rollback would now restore the default.
    const afterRollback = rulesStateOf(rulesRecordsOf(rolledBack));
    expect(afterRollback.activeChange).toEqual({
      from: versionOf(tableB),
      to: versionOf(tableA),
      version: 3,
    });
    expect(afterRollback.previous).toEqual([null]);
    const first = scripted({ 'rules history': historyOf(rolledBack) });
    expect((await rules(first.run, '1h', NOW)).data?.active).toBe(versionOf(tableA));
    expect(first.ran).toContainEqual(['rules', 'diff', '--', versionOf(tableB), 'active']);

    // Given the forced publication of C (A → C): the previous active is A.
    const afterForced = rulesStateOf(forced);
    expect(afterForced.activeChange).toEqual({ from: versionOf(tableA), to: versionOf(tableC), version: 4 });
    const second = scripted({ 'rules history': forced.map(rulesItemOf) });
    const panel = await rules(second.run, '1h', NOW);
    expect(panel.data?.active).toBe(versionOf(tableC));
    expect(panel.data?.history[0]).toMatchObject({ version: 4, action: 'publish', forced: true });
    expect(second.ran).toContainEqual(['rules', 'diff', '--', versionOf(tableA), 'active']);
  });

  it('given a shadow stopped later, then the agreement is still reported (a table ran in shadow in the stream)', async () => {
    const { run, ran } = scripted({
      'rules history': historyOf([
        { type: 'ShadowRules', data: { ...by, table: tableC } },
        { type: 'ShadowRules', data: { ...by, table: null } },
      ]),
    });
    const panel = await rules(run, '6h', NOW);
    expect(panel.data).toMatchObject({ shadow: null, diff: null });
    expect(ran.filter((argv) => argv[1] === 'shadow-report')).toHaveLength(6);
  });

  it('given a history line that is not a rules record, then the panel names the problem and runs nothing more', async () => {
    const [item] = historyOf([publish(tableA)]);
    const { run, ran } = scripted({ 'rules history': [{ ...item, schemaVersion: 99 }] });
    const panel = await rules(run, '6h', NOW);
    expect(panel.data).toBeNull();
    expect(panel.error).toEqual({
      command: 'routing-manager rules history',
      exitCode: 0,
      message: 'unsupported rules schemaVersion 99',
    });
    expect(ran).toEqual([['rules', 'history']]);
  });
});

describe('the projection panel', () => {
  it("runs projector and redrive's dry run with the console's preview incident over the window", async () => {
    const { run, ran } = scripted({ redrive: [{ matched: 3, wouldAppend: 1 }], projector: [{ lag: null }] });
    expect((await projectionHealth(run, '24h', NOW)).data).toEqual({
      projector: { lag: null },
      redrive: { matched: 3, wouldAppend: 1 },
    });
    expect(ran[0]).toEqual([
      'projector',
      '--since=2026-11-24T12:00:00.000Z',
      '--until=2026-11-25T12:00:00.000Z',
    ]);
    expect(ran[1]).toEqual([
      'redrive',
      '--incident=console-preview',
      '--since=2026-11-24T12:00:00.000Z',
      '--until=2026-11-25T12:00:00.000Z',
      '--dry-run',
    ]);
  });
});

describe('actions', () => {
  const allowed = { allowActions: true, by: 'ops@example.com' };
  const readOnly = { allowActions: false, by: 'ops@example.com' };
  const refusal = async (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: unknown) => (error instanceof ActionRefusedError ? error.reason : error),
    );

  it('given a read-only console, then a breaker change and a real replay are refused before any verb runs, and a preview is not', async () => {
    const { run, ran } = scripted({ replay: [{ dryRun: true, wouldAppend: 2 }] });
    expect(
      await refusal(
        changeBreaker(run, readOnly, { mode: 'close', provider: 'fal', reason: 'r', confirm: 'fal' }),
      ),
    ).toBe('read_only');
    const replay = {
      kind: 'replay' as const,
      incident: 'INC-1',
      providers: ['fal'],
      window: '1h' as const,
      reason: 'r',
    };
    expect(
      await refusal(replayOrRedrive(run, readOnly, { ...replay, dryRun: false, confirm: 'INC-1' }, NOW)),
    ).toBe('read_only');
    expect(ran).toEqual([]);
    const preview = await replayOrRedrive(run, readOnly, { ...replay, reason: '', dryRun: true }, NOW);
    expect(preview.data).toEqual({ dryRun: true, wouldAppend: 2 });
    expect(ran[0]).toEqual([
      'replay',
      '--incident=INC-1',
      '--provider=fal',
      '--since=2026-11-25T11:00:00.000Z',
      '--until=2026-11-25T12:00:00.000Z',
      '--by=ops@example.com',
      '--dry-run',
    ]);
  });

  it('given actions allowed, then a change needs the typed confirmation and a reason, and runs as the operator', async () => {
    const { run, ran } = scripted({
      provider: { stdout: 'fal#wan-i2v: forced_open recorded (transition v2)\n' },
    });
    const base = { mode: 'open' as const, provider: 'fal', model: 'wan-i2v', reason: 'incident 7' };
    expect(await refusal(changeBreaker(run, allowed, { ...base, confirm: 'fal' }))).toBe('not_confirmed');
    expect(
      await refusal(changeBreaker(run, allowed, { ...base, reason: '  ', confirm: 'fal#wan-i2v' })),
    ).toBe('reason_required');
    const changed = await changeBreaker(run, allowed, { ...base, confirm: 'fal#wan-i2v' });
    expect(changed.data).toBe('fal#wan-i2v: forced_open recorded (transition v2)');
    expect(ran).toEqual([
      ['provider', 'open', '--why=incident 7', '--by=ops@example.com', '--model=wan-i2v', '--', 'fal'],
    ]);
  });

  it('given a real re-drive, then it needs the incident key typed and passes the reason; a refused verb comes back as the panel error', async () => {
    const { run, ran } = scripted({
      redrive: { code: 2, stderr: 'routing-manager: --incident must be an incident key' },
    });
    const redrive = {
      kind: 'redrive' as const,
      incident: 'INC-2',
      providers: [],
      window: '6h' as const,
      reason: 'batch lost',
      dryRun: false,
    };
    expect(await refusal(replayOrRedrive(run, allowed, { ...redrive, confirm: 'INC' }, NOW))).toBe(
      'not_confirmed',
    );
    const result = await replayOrRedrive(run, allowed, { ...redrive, confirm: 'INC-2' }, NOW);
    expect(result.error).toMatchObject({ exitCode: 2, message: '--incident must be an incident key' });
    expect(ran[0]).toContain('--why=batch lost');
    expect(ran[0]).not.toContain('--dry-run');
  });
});

describe('the decisions series', () => {
  it('given decisions in and out of the window, then each is counted once in its bucket, by provider or reason', () => {
    const window = windowOf('15m', NOW);
    const series = decisionSeries(
      [
        { recordedAt: '2026-11-25T11:45:00.000Z', outcome: 'routed', provider: 'fal', reason: null },
        { recordedAt: '2026-11-25T11:45:10.000Z', outcome: 'routed', provider: 'fal', reason: null },
        { recordedAt: '2026-11-25T11:59:59.000Z', outcome: 'rejected', provider: null, reason: 'no_route' },
        { recordedAt: '2026-11-25T11:00:00.000Z', outcome: 'routed', provider: 'fal', reason: null },
        { recordedAt: 'not a time', outcome: 'routed', provider: 'fal', reason: null },
      ],
      [
        {
          at: '2026-11-25T11:50:00.000Z',
          breaker: 'fal',
          version: 2,
          from: 'open',
          to: 'half_open',
          reason: 'r',
        },
        {
          at: '2026-11-25T11:40:00.000Z',
          breaker: 'fal',
          version: 1,
          from: 'closed',
          to: 'open',
          reason: 'r',
        },
      ],
      window,
    );
    expect(series.bucketSeconds).toBe(30);
    expect(series.buckets).toHaveLength(30);
    expect(series.series.map((s) => [s.label, s.counts.reduce((a, b) => a + b, 0)])).toEqual([
      ['rejected no_route', 1],
      ['routed fal', 2],
    ]);
    expect(series.series[1]?.counts[0]).toBe(2);
    expect(series.series[0]?.counts[29]).toBe(1);
    expect(series.transitions.map((t) => t.version)).toEqual([2]);
  });

  it('given any window, then buckets are whole tens of seconds and there are at most about thirty', () => {
    expect(bucketSecondsOf(0, 0)).toBe(10);
    expect(bucketSecondsOf(0, 3_600_000)).toBe(120);
    expect(bucketSecondsOf(0, 86_400_000)).toBe(2880);
  });
});

describe('security', () => {
  it('gives a new 256-bit token each run and compares in constant time', () => {
    const token = newToken();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(newToken()).not.toBe(token);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(`${token}x`, token)).toBe(false);
    expect(tokenMatches(undefined, token)).toBe(false);
  });

  it('answers only to the loopback names at its port', () => {
    expect([...allowedHosts(8080)]).toEqual(['127.0.0.1:8080', 'localhost:8080']);
  });
});

describe('forwarded options', () => {
  it("passes the console's global options on to every verb it runs", () => {
    expect(
      forwardedOptions({
        stage: 'prod',
        endpointUrl: 'http://127.0.0.1:4566',
        region: 'eu-west-1',
        output: 'table',
      }),
    ).toEqual(['--region', 'eu-west-1', '--endpoint-url', 'http://127.0.0.1:4566', '--stage', 'prod']);
  });
});

describe('the console verb', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: {
        stdout: { write: (text: string) => (out.stdout += text) },
        stderr: { write: (text: string) => (out.stderr += text) },
        env: {},
      },
    };
  };

  it('given a port that is not one, then it exits 2 before serving anything', async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(['console', '--port', '70000'], cliIo)).toBe(2);
    expect(out.stderr).toContain('--port must be a port number');
    expect(out.stdout).toBe('');
  });

  it('given a stop that has already come, then it serves, prints its URL and stops at once', async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(['console'], { ...cliIo, stop: AbortSignal.abort() })).toBe(0);
    expect(out.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}\n$/);
    expect(out.stderr).toContain('read-only');
  });
});

describe('the IteratorAge period', () => {
  it('is a minute, or more whole minutes when the window would exceed 1,440 data points', () => {
    const at = (hours: number) => ({ since: new Date(0), until: new Date(hours * 3_600_000) });
    expect(periodSecondsOf(at(1))).toBe(60);
    expect(periodSecondsOf(at(24))).toBe(60);
    expect(periodSecondsOf(at(25))).toBe(120);
    expect(periodSecondsOf(at(24 * 92))).toBe(92 * 60);
  });
});

describe('the console server', () => {
  it('given two pages asking for the same panel at once, then the verbs run once and both get the answer', async () => {
    let healthRuns = 0;
    const run: RunVerb = async (argv) => {
      if (argv[0] === 'health') healthRuns++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { commandLine: `routing-manager ${argv.join(' ')}`, code: 0, stdout: '', stderr: '' };
    };
    const app = consoleApp(
      {
        port: 0,
        run,
        policy: { allowActions: false, by: 'ops' },
        showContent: false,
        assets: { script: '', styles: '' },
        now: () => NOW,
      },
      'secret',
      () => 4321,
    );
    const ask = () =>
      app.request('http://127.0.0.1:4321/api/overview?window=15m', {
        headers: { host: '127.0.0.1:4321', 'x-console-token': 'secret' },
      });
    const [a, b] = await Promise.all([ask(), ask()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await a.json()).toEqual(await b.json());
    expect(healthRuns).toBe(1);
    await ask();
    expect(healthRuns).toBe(2);
  });
});
