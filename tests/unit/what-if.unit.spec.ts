import { describe, expect, it } from 'vitest';
import { AUTO_PROVIDER } from '../../src/intake/submission.ts';
import {
  decisionRecord,
  intakeRejectionRecord,
  type RoutingDecidedRecord,
} from '../../src/log/routing-records.ts';
import { balancesToLookUp, providersToScan, reevaluate, whatIf } from '../../src/queries/what-if.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, rulesVersionOf } from '../../src/routing/routing-table.ts';
import { aJob } from '../support/jobs.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const providers = {
  fal: { queue: 'FalJobQueue', models: { 'wan-i2v': { pricePerSecond: 0.05 } } },
  replicate: { queue: 'ReplicateJobQueue', models: { 'wan-2.1-i2v': { pricePerSecond: 0.09 } } },
};

/** Candidate: auto short 720p goes to replicate instead of fal; everything else as the default. */
const autoToReplicate = loadRoutingTable({
  ...structuredClone({ version: 'candidate-1', providers }),
  rules: defaultRoutingTable.rules.map((rule) =>
    rule.id === 'auto-short-720p-fal'
      ? { ...rule, route: { provider: 'replicate', model: 'wan-2.1-i2v' } }
      : rule,
  ),
});

/** Candidate: auto requires credits (0.05/s on fal). */
const creditsRequired = loadRoutingTable({
  version: 'candidate-credits',
  providers,
  rules: defaultRoutingTable.rules.map((rule) =>
    rule.id === 'auto-short-720p-fal' ? { ...rule, requireCredits: true } : rule,
  ),
});

const noBalances = () => undefined;

describe('what-if re-evaluation of one decision', () => {
  it('given an auto job routed to fal, when re-decided with a table sending it to replicate, then provider and model change', () => {
    const result = reevaluate(aDecisionRecord(), autoToReplicate, noBalances);
    expect(result.changes).toEqual(['provider', 'model']);
    expect(result.after).toMatchObject({ outcome: 'routed', provider: 'replicate', estimatedCost: 0.72 });
    expect(result.before).toMatchObject({ provider: 'fal', estimatedCost: 0.4 });
  });

  it('given the same table, when re-decided, then nothing changes', () => {
    expect(reevaluate(aDecisionRecord(), defaultRoutingTable, noBalances).changes).toEqual([]);
  });

  it('given an intake rejection, when re-decided, then it is unchanged and marked as such', () => {
    const record = intakeRejectionRecord(
      {
        eventId: 'e1',
        submittedAt: null,
        recordedAt: '2026-11-25T10:00:00.000Z',
        detail: { jobId: 'j' },
        payloadHash: 'k1:test',
      },
      { reason: 'invalid_request', fieldErrors: [{ path: 'detail.prompt', message: 'missing' }], jobId: 'j' },
    );
    expect(reevaluate(record, autoToReplicate, noBalances)).toMatchObject({
      changes: [],
      intakeRejection: true,
    });
  });

  it('given a table needing credits and no recorded balance, when re-decided, then the looked-up balance is used', () => {
    const record = aDecisionRecord({ userId: 'rich' });
    expect(balancesToLookUp([record], creditsRequired)).toEqual(['rich']);
    expect(balancesToLookUp([record], defaultRoutingTable)).toEqual([]);
    expect(reevaluate(record, creditsRequired, () => 100).changes).toEqual([]);
    expect(reevaluate(record, creditsRequired, () => 0.1)).toMatchObject({
      changes: ['outcome'],
      after: { outcome: 'rejected', reason: 'insufficient_credits', estimatedCost: 0 },
    });
    expect(reevaluate(record, creditsRequired, noBalances).after.reason).toBe('insufficient_credits');
  });

  it('given a decision that recorded the balance it saw, when re-decided, then that balance is used, not a lookup', () => {
    const job = aJob({ userId: 'poor' });
    const record = decisionRecord(
      {
        eventId: 'e',
        submittedAt: null,
        recordedAt: '2026-11-25T10:00:00.000Z',
        detail: job,
        payloadHash: 'k1:test',
      },
      job,
      decide(job, { table: creditsRequired, creditBalance: 0.1 }),
    );
    expect(balancesToLookUp([record], creditsRequired)).toEqual([]);
    expect(reevaluate(record, creditsRequired, () => 1000).changes).toEqual([]);
  });

  it('given a logged job the intake would refuse today, when re-decided, then it becomes a rejection', () => {
    const decided = aDecisionRecord() as RoutingDecidedRecord;
    const record = { ...decided, data: { ...decided.data, job: JSON.stringify({ jobId: 'x' }) } };
    expect(reevaluate(record, defaultRoutingTable, noBalances)).toMatchObject({
      changes: ['outcome'],
      after: { outcome: 'rejected', reason: 'invalid_request' },
    });
  });

  it('given a rejection whose reason changes, when re-decided, then the change is a reason change', () => {
    const noRouteToCapability = loadRoutingTable({
      version: 'capability',
      providers: {
        ...providers,
        fal: { queue: 'FalJobQueue', models: { 'wan-i2v': { pricePerSecond: 0.05, resolutions: ['720p'] } } },
      },
      rules: [
        {
          id: 'all-auto-fal',
          description: '',
          when: { requestedProvider: ['auto'] },
          route: { provider: 'fal', model: 'wan-i2v' },
        },
        { id: 'otherwise', description: '', when: {}, reject: 'no_route' },
      ],
    });
    const record = aDecisionRecord({ resolution: '4k' });
    expect(reevaluate(record, noRouteToCapability, noBalances)).toMatchObject({
      changes: ['reason'],
      after: { reason: 'capability_mismatch' },
    });
  });
});

describe('what-if summary', () => {
  it('given a mix of decisions, when diffed, then counts, transitions, examples and the cost delta add up', () => {
    const records = [
      aDecisionRecord({}, '2026-11-25T10:00:01.000Z'),
      aDecisionRecord({}, '2026-11-25T10:00:02.000Z'),
      aDecisionRecord({ provider: 'replicate' }, '2026-11-25T10:00:03.000Z'),
      aDecisionRecord({ resolution: '4k' }, '2026-11-25T10:00:04.000Z'),
    ];
    const { summary } = whatIf(records, autoToReplicate, noBalances, { examples: 1 });
    expect(summary).toMatchObject({
      rulesVersion: rulesVersionOf(autoToReplicate),
      scanned: 4,
      changed: 2,
      unchanged: 2,
      byKind: { outcome: 0, provider: 2, model: 2, reason: 0 },
      transitions: [{ from: 'fal/wan-i2v', to: 'replicate/wan-2.1-i2v', count: 2 }],
      cost: { before: 1.52, after: 2.16, delta: 0.64 },
    });
    expect(summary.examples).toHaveLength(1);
  });
});

describe('partitions a what-if scans', () => {
  it('given two tables, when listing partitions, then every provider of both plus none and the requestable ones', () => {
    const extra = loadRoutingTable({
      version: 'veo',
      providers: { veo: { queue: 'VeoJobQueue', models: { 'veo-3': { pricePerSecond: 0.5 } } } },
      rules: [{ id: 'all', description: '', when: {}, route: { provider: 'veo', model: 'veo-3' } }],
    });
    expect(providersToScan([defaultRoutingTable, extra], [AUTO_PROVIDER])).toEqual([
      'auto',
      'fal',
      'none',
      'replicate',
      'veo',
    ]);
  });

  it('given explicit providers, when listing partitions, then only those', () => {
    expect(providersToScan([defaultRoutingTable], [AUTO_PROVIDER], ['fal', 'fal'])).toEqual(['fal']);
  });
});
