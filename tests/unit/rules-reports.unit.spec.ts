/**
 * The pure reports behind `rules publish` (the what-if gate), `rules shadow-report` and `rules diff`.
 */
import { describe, expect, it } from 'vitest';
import { decisionRecord } from '../../src/log/routing-records.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';
import { DEFAULT_GATE_THRESHOLDS, evaluateGate } from '../../src/rules/publish-gate.ts';
import { decideUnderRules } from '../../src/rules/rules-decision.ts';
import { shadowReport } from '../../src/rules/shadow-report.ts';
import { diffTables } from '../../src/rules/table-diff.ts';
import { aJob } from '../support/jobs.ts';
import { aTableRejectingEverything, aTableRoutingAutoTo } from '../support/rules.ts';

const WINDOW = { since: '2026-11-24T00:00:00.000Z', until: '2026-11-25T00:00:00.000Z' };
const noBalances = () => undefined;

function aRecordDecidedBy(
  overrides: Record<string, unknown>,
  shadow = defaultRoutingTable,
  table = defaultRoutingTable,
) {
  const job = aJob(overrides);
  const { decision, shadow: result } = decideUnderRules(
    job,
    { table, shadow, canary: null, source: 'published', recordVersion: 1 },
    undefined,
  );
  return decisionRecord(
    {
      eventId: `evt-${job.jobId}`,
      submittedAt: null,
      recordedAt: '2026-11-24T10:00:00.000Z',
      detail: job,
      payloadHash: 'k1:test',
    },
    job,
    decision,
    result,
  );
}

const recent = [
  aRecordDecidedBy({}),
  aRecordDecidedBy({ lengthSec: 4 }),
  aRecordDecidedBy({ provider: 'fal' }),
  aRecordDecidedBy({ provider: 'replicate' }),
  aRecordDecidedBy({ resolution: '4k' }),
];

describe('the what-if gate', () => {
  it('given a candidate that only moves auto jobs to a pricier provider, when gated, then the cost rise is the one violation', () => {
    const gate = evaluateGate(
      recent,
      aTableRoutingAutoTo('replicate'),
      noBalances,
      DEFAULT_GATE_THRESHOLDS,
      WINDOW,
    );
    expect(gate).toMatchObject({ scanned: 5, changed: 2, explicitProviderChanges: 0, ...WINDOW });
    expect(gate.violations).toEqual([expect.stringMatching(/^estimated cost .* > 5%\)$/)]);
  });

  it('given a candidate that rejects everything, when gated, then explicit changes and the rejection rate are violations', () => {
    const gate = evaluateGate(
      recent,
      aTableRejectingEverything(),
      noBalances,
      DEFAULT_GATE_THRESHOLDS,
      WINDOW,
    );
    expect(gate.rejectionRate).toEqual({ before: 20, after: 100 });
    expect(gate.violations).toEqual([
      '2 decision(s) for an explicitly requested provider would change',
      'rejection rate 20% → 100% (+80 points > 1)',
    ]);
  });

  it('given generous thresholds and an identical candidate, when gated, then it passes', () => {
    expect(
      evaluateGate(recent, defaultRoutingTable, noBalances, DEFAULT_GATE_THRESHOLDS, WINDOW).violations,
    ).toEqual([]);
    const loose = { maxRejectionRateIncrease: 100, maxCostIncrease: 1_000 };
    expect(
      evaluateGate(recent, aTableRoutingAutoTo('replicate'), noBalances, loose, WINDOW).violations,
    ).toEqual([]);
  });

  it('given a window with no cost before, when a candidate adds cost, then the rise is reported as from nothing', () => {
    const rejected = [aRecordDecidedBy({ resolution: '4k' })];
    const open = loadRoutingTable({
      ...defaultRoutingTable,
      version: 'open',
      rules: [{ id: 'all', description: '', when: {}, route: { provider: 'fal', model: 'wan-i2v' } }],
    });
    const gate = evaluateGate(
      rejected,
      open,
      noBalances,
      { maxRejectionRateIncrease: 1, maxCostIncrease: 5 },
      WINDOW,
    );
    expect(gate.violations).toEqual([expect.stringContaining('from nothing')]);
    expect(evaluateGate([], open, noBalances, DEFAULT_GATE_THRESHOLDS, WINDOW).rejectionRate).toEqual({
      before: 0,
      after: 0,
    });
  });
});

describe('the shadow report', () => {
  it('given decisions with and without shadow results, when reported, then agreement, moves and the cost delta add up', () => {
    const toReplicate = aTableRoutingAutoTo('replicate');
    const records = [
      aRecordDecidedBy({}, toReplicate),
      aRecordDecidedBy({ lengthSec: 4 }, toReplicate),
      aRecordDecidedBy({ provider: 'replicate' }, toReplicate),
      aRecordDecidedBy({ resolution: '4k' }, aTableRejectingEverything()),
      decisionRecord(
        {
          eventId: 'e',
          submittedAt: null,
          recordedAt: '2026-11-24T10:00:00.000Z',
          detail: aJob(),
          payloadHash: 'k1:test',
        },
        aJob(),
        decideUnderRules(
          aJob(),
          { table: defaultRoutingTable, shadow: null, canary: null, source: 'default', recordVersion: null },
          undefined,
        ).decision,
      ),
    ];
    const report = shadowReport(records);
    expect(report).toMatchObject({ decisions: 5, shadowed: 4, agreed: 2, agreementRate: 50 });
    expect(report.moves).toEqual([{ from: 'fal/wan-i2v', to: 'replicate/wan-2.1-i2v', count: 2 }]);
    expect(report.cost.delta).toBeGreaterThan(0);
    expect(shadowReport([])).toMatchObject({ shadowed: 0, agreementRate: 0 });
  });
});

describe('diffing tables', () => {
  it('given two tables, when diffed, then version, providers and rules changes are listed', () => {
    const after = loadRoutingTable({
      version: 'next',
      providers: {
        fal: { queue: 'FalJobQueue', models: { 'wan-i2v': { pricePerSecond: 0.06 } } },
        veo: { queue: 'VeoJobQueue', models: { 'veo-3-fast': { pricePerSecond: 0.2 } } },
      },
      rules: [
        {
          id: 'explicit-veo',
          description: '',
          when: { requestedProvider: ['fal'] },
          route: { provider: 'veo', model: 'veo-3-fast' },
        },
        defaultRoutingTable.rules[3],
        defaultRoutingTable.rules[0],
      ],
    });
    const changes = diffTables(defaultRoutingTable, after).map(
      (change) => `${change.kind} ${change.what}${change.field ? `: ${change.field}` : ''}`,
    );
    expect(changes).toEqual([
      'changed version',
      'changed provider fal: models.wan-i2v.pricePerSecond',
      'removed provider replicate',
      'added provider veo',
      'moved rule explicit-fal',
      'removed rule explicit-replicate',
      'removed rule auto-short-720p-fal',
      'moved rule otherwise-no-route',
      'added rule explicit-veo',
    ]);
    expect(diffTables(defaultRoutingTable, defaultRoutingTable)).toEqual([]);
    // A changed field is shown alone, not the whole provider or rule.
    expect(diffTables(defaultRoutingTable, after)[1]).toEqual({
      kind: 'changed',
      what: 'provider fal',
      field: 'models.wan-i2v.pricePerSecond',
      before: 0.05,
      after: 0.06,
    });
  });
});
