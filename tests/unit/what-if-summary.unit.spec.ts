/** The what-if summary beyond single decisions: transitions, examples, unreadable jobs, rendering. */
import { describe, expect, it } from 'vitest';
import { renderWhatIf } from '../../src/cli/verbs/what-if.ts';
import {
  balancesToLookUp,
  describeFacts,
  type ReevaluatedDecision,
  type WhatIfSummary,
  whatIf,
} from '../../src/queries/what-if.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';
import { aNoRouteRecord, aRoutedRecord, withData } from '../support/records.ts';

const noBalances = () => undefined;

/** Candidate: every auto job goes to replicate, short or long; explicit fal requests are refused. */
const everythingToReplicate = loadRoutingTable({
  version: 'candidate-replicate',
  providers: defaultRoutingTable.providers,
  rules: [
    {
      id: 'fal-refused',
      description: 'no fal',
      when: { requestedProvider: ['fal'] },
      reject: 'no_route',
    },
    {
      id: 'all-replicate',
      description: 'everything else to replicate',
      when: {},
      route: { provider: 'replicate', model: 'wan-2.1-i2v' },
    },
  ],
});

/** Candidate: short auto jobs need credits. */
const creditsRequired = loadRoutingTable({
  version: 'candidate-credits',
  providers: defaultRoutingTable.providers,
  rules: defaultRoutingTable.rules.map((rule) =>
    rule.id === 'auto-short-720p-fal' ? { ...rule, requireCredits: true } : rule,
  ),
});

describe('what-if transitions', () => {
  it('given changes of several kinds, when summarised, then transitions are counted and listed most frequent first, ties by name', () => {
    const records = [
      aRoutedRecord(),
      aRoutedRecord(),
      aRoutedRecord({ provider: 'fal' }),
      aNoRouteRecord(),
      aNoRouteRecord({ resolution: '1080p' }),
    ];
    const { summary } = whatIf(records, everythingToReplicate, noBalances);
    expect(summary.transitions).toEqual([
      { from: 'fal/wan-i2v', to: 'replicate/wan-2.1-i2v', count: 2 },
      { from: 'rejected:no_route', to: 'replicate/wan-2.1-i2v', count: 2 },
      { from: 'fal/wan-i2v', to: 'rejected:no_route', count: 1 },
    ]);
  });

  it('given equal counts from the same decision, when summarised, then the targets are ordered by name', () => {
    const records = [aRoutedRecord(), aRoutedRecord({ provider: 'fal' })];
    const { summary } = whatIf(records, everythingToReplicate, noBalances);
    expect(summary.transitions.map((t) => t.to)).toEqual(['rejected:no_route', 'replicate/wan-2.1-i2v']);
  });

  it('given more changes than examples asked for, when summarised, then the first changes are the examples (5 by default)', () => {
    const records = Array.from({ length: 7 }, () => aRoutedRecord());
    expect(whatIf(records, everythingToReplicate, noBalances).summary.examples).toHaveLength(5);
    const two = whatIf(records, everythingToReplicate, noBalances, { examples: 2 }).summary.examples;
    expect(two.map((e) => e.jobId)).toEqual([records[0]?.metadata.jobId, records[1]?.metadata.jobId]);
  });
});

describe('what-if facts', () => {
  it('given routed and rejected facts, when described, then they read provider/model or rejected:reason', () => {
    const routed = whatIf([aRoutedRecord()], defaultRoutingTable, noBalances).decisions[0];
    const rejected = whatIf([aNoRouteRecord()], defaultRoutingTable, noBalances).decisions[0];
    expect(describeFacts(routed?.before as ReevaluatedDecision['before'])).toBe('fal/wan-i2v');
    expect(describeFacts(rejected?.before as ReevaluatedDecision['before'])).toBe('rejected:no_route');
  });
});

describe('balances to look up for logged jobs that cannot be read', () => {
  it.each([
    ['is not JSON', '{"userId": '],
    ['has no string userId', JSON.stringify({ userId: 42 })],
  ])('given a logged job that %s, when balances are gathered, then it is left out', (_, job) => {
    const unreadable = withData(aRoutedRecord({ userId: 'ghost' }), { job });
    const readable = aRoutedRecord({ userId: 'alice' });
    expect(balancesToLookUp([unreadable, readable], creditsRequired)).toEqual(['alice']);
  });

  it('given several decisions of one user, when balances are gathered, then the user is listed once', () => {
    const records = [
      aRoutedRecord({ userId: 'bob' }),
      aRoutedRecord({ userId: 'bob' }),
      aNoRouteRecord({ userId: 'amy' }),
    ];
    expect(balancesToLookUp(records, creditsRequired)).toEqual(['amy', 'bob']);
  });
});

describe('rendering a what-if summary', () => {
  const summaryWith = (examples: ReevaluatedDecision[]): WhatIfSummary => ({
    rulesVersion: 'v2',
    scanned: 1,
    changed: examples.length,
    unchanged: 1 - examples.length,
    intakeRejections: 0,
    byKind: { outcome: examples.length, provider: 0, model: 0, reason: 0 },
    transitions: [],
    cost: { before: 0, after: 0.4, delta: 0.4 },
    examples,
  });

  it('given an example without a jobId, when rendered, then its stream names it', () => {
    const example: ReevaluatedDecision = {
      stream: 'event#e-1',
      jobId: null,
      recordedAt: '2026-11-25T10:00:00.000Z',
      before: {
        outcome: 'rejected',
        provider: null,
        model: null,
        reason: 'no_route',
        rule: null,
        estimatedCost: 0,
      },
      after: {
        outcome: 'routed',
        provider: 'fal',
        model: 'wan-i2v',
        reason: null,
        rule: null,
        estimatedCost: 0.4,
      },
      changes: ['outcome'],
      intakeRejection: false,
    };
    const text = renderWhatIf(summaryWith([example]), ['fal']);
    expect(text).toMatch(/^2026-11-25T10:00:00\.000Z\s+event#e-1\s+rejected:no_route\s+fal\/wan-i2v\s+-$/m);
    expect(text).toMatch(/^estimated cost:\s+0 → 0\.4 credits \(\+0\.4 credits\)$/m);
  });

  it('given no changes, when rendered, then neither a transitions table nor examples are shown', () => {
    const text = renderWhatIf(summaryWith([]), ['fal', 'none']);
    expect(text).toMatch(/^partitions:\s+fal, none$/m);
    expect(text).not.toMatch(/examples:|count/);
  });
});
