/**
 * Deciding under the published rules: the canary decides its share of jobs by a stable bucket, and
 * the shadow is evaluated beside the decision without ever changing it or its effects.
 */
import { describe, expect, it } from 'vitest';
import { decisionRecord } from '../../src/log/routing-records.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, rulesVersionOf } from '../../src/routing/routing-table.ts';
import type { ActiveRules } from '../../src/rules/active-rules.ts';
import { decideUnderRules, rulesNeedCreditBalance } from '../../src/rules/rules-decision.ts';
import { aJob } from '../support/jobs.ts';
import { aTableRoutingAutoTo } from '../support/rules.ts';

const toReplicate = aTableRoutingAutoTo('replicate');
const rulesWith = (over: Partial<ActiveRules>): ActiveRules => ({
  table: defaultRoutingTable,
  shadow: null,
  canary: null,
  source: 'published',
  recordVersion: 1,
  ...over,
});
const received = (detail: unknown) => ({
  eventId: 'evt-1',
  submittedAt: '2026-11-25T10:00:00Z',
  recordedAt: '2026-11-25T10:00:01.000Z',
  payloadHash: 'k1:test',
  detail,
});

describe('a shadow candidate', () => {
  it('given a shadow that routes elsewhere, when a job is decided, then the decision and its effects are exactly those without the shadow', () => {
    const job = aJob();
    const plain = decideUnderRules(job, rulesWith({}), undefined);
    const shadowed = decideUnderRules(job, rulesWith({ shadow: toReplicate }), undefined);
    expect(shadowed.decision).toEqual(plain.decision);
    expect(shadowed.shadow).toEqual({
      rulesVersion: rulesVersionOf(toReplicate),
      outcome: 'routed',
      provider: 'replicate',
      model: 'wan-2.1-i2v',
      reason: null,
      estimatedCost: expect.any(Number),
    });
    const withShadow = decisionRecord(received(job), job, shadowed.decision, shadowed.shadow);
    const without = decisionRecord(received(job), job, plain.decision);
    expect(planEffects(withShadow)).toEqual(planEffects(without));
    const { shadow, ...rest } = withShadow.data;
    expect({ ...withShadow, data: rest }).toEqual(without);
  });

  it('given a shadow that rejects, when a job is decided, then the shadow result carries the reason and no cost', () => {
    const closed = loadRoutingTable({
      ...defaultRoutingTable,
      version: 'closed',
      rules: [{ id: 'no', description: '', when: {}, reject: 'no_route' }],
    });
    expect(decideUnderRules(aJob(), rulesWith({ shadow: closed }), undefined).shadow).toMatchObject({
      outcome: 'rejected',
      reason: 'no_route',
      estimatedCost: 0,
    });
  });

  it('given a shadow that needs credits, when asked, then the balance is needed but the active decision does not record it', () => {
    const credits = loadRoutingTable({
      ...defaultRoutingTable,
      version: 'credits',
      rules: defaultRoutingTable.rules.map((rule) =>
        'route' in rule ? { ...rule, requireCredits: true } : rule,
      ),
    });
    const rules = rulesWith({ shadow: credits });
    expect(rulesNeedCreditBalance(rules, 'job-1')).toBe(true);
    const { decision, shadow } = decideUnderRules(aJob(), rules, 0);
    expect(decision.explanation.creditBalance).toBeUndefined();
    expect(shadow).toMatchObject({ outcome: 'rejected', reason: 'insufficient_credits' });
  });
});

describe('a canary candidate', () => {
  it('given a canary on 50 %, when the same jobs are decided twice (a replay, an audit), then each gets the same bucket and the same rules', () => {
    const rules = rulesWith({ canary: { table: toReplicate, percent: 50 } });
    const jobs = Array.from({ length: 40 }, (_, i) => aJob({ jobId: `job-${i}` }));
    const first = jobs.map((job) => decideUnderRules(job, rules, undefined).decision);
    const again = jobs.map((job) => decideUnderRules(job, rules, undefined).decision);
    expect(again).toEqual(first);
    const used = first.filter((decision) => decision.explanation.canary?.used);
    expect(used.length).toBeGreaterThan(0);
    expect(used.length).toBeLessThan(40);
    for (const decision of first) {
      const canary = decision.explanation.canary;
      expect(canary).toMatchObject({ percent: 50, rulesVersion: rulesVersionOf(toReplicate) });
      expect(decision.explanation.rulesVersion).toBe(
        rulesVersionOf(canary?.used ? toReplicate : defaultRoutingTable),
      );
      expect(decision.outcome === 'routed' && decision.provider).toBe(canary?.used ? 'replicate' : 'fal');
    }
  });

  it('given rules read stale, when decided, then the explanation records it', () => {
    expect(
      decideUnderRules(aJob(), rulesWith({ source: 'stale' }), undefined).decision.explanation.rulesRead,
    ).toBe('stale');
    expect(
      decideUnderRules(aJob(), rulesWith({ source: 'published' }), undefined).decision.explanation,
    ).not.toHaveProperty('rulesRead');
  });
});
