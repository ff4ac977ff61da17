import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../src/routing/cost.ts';
import { decide, tableNeedsCreditBalance } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, rulesVersionOf } from '../../src/routing/routing-table.ts';
import { aJob } from '../support/jobs.ts';

const withDefaultTable = { table: defaultRoutingTable };

describe('decide with the default table (the seed rules)', () => {
  it.each([
    // [case, job, expected provider | rejection reason]
    ['seed example: auto, 8 s, 720p', { provider: 'auto', lengthSec: 8, resolution: '720p' }, 'fal'],
    ['auto, exactly 10 s, 720p', { provider: 'auto', lengthSec: 10, resolution: '720p' }, 'fal'],
    ['auto, 10.5 s, 720p', { provider: 'auto', lengthSec: 10.5, resolution: '720p' }, 'no_route'],
    ['auto, 0.5 s, 720p', { provider: 'auto', lengthSec: 0.5, resolution: '720p' }, 'fal'],
    ['auto, 8 s, 1080p', { provider: 'auto', lengthSec: 8, resolution: '1080p' }, 'no_route'],
    ['auto, 8 s, 4k', { provider: 'auto', lengthSec: 8, resolution: '4k' }, 'no_route'],
    ['auto, 8 s, 480p', { provider: 'auto', lengthSec: 8, resolution: '480p' }, 'no_route'],
    ['auto, 8 s, 720P (casing)', { provider: 'auto', lengthSec: 8, resolution: '720P' }, 'fal'],
    ['explicit fal, 30 s, 4k', { provider: 'fal', lengthSec: 30, resolution: '4k' }, 'fal'],
    [
      'explicit replicate, 8 s, 720p',
      { provider: 'replicate', lengthSec: 8, resolution: '720p' },
      'replicate',
    ],
    [
      'explicit replicate, 600 s, 1080p',
      { provider: 'replicate', lengthSec: 600, resolution: '1080p' },
      'replicate',
    ],
    ['explicit FAL (casing)', { provider: 'FAL', lengthSec: 20, resolution: '1080p' }, 'fal'],
    ['auto with audio, 8 s, 720p', { provider: 'auto', feature: { audio: true } }, 'fal'],
  ])('%s → %s', (_case, job, expected) => {
    const decision = decide(aJob(job), withDefaultTable);
    if (decision.outcome === 'routed') expect(decision.provider).toBe(expected);
    else expect(decision.reason).toBe(expected);
  });

  it('routes auto short 720p jobs to fal wan-i2v on FalJobQueue', () => {
    const decision = decide(aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' }), withDefaultTable);
    expect(decision).toMatchObject({
      outcome: 'routed',
      provider: 'fal',
      model: 'wan-i2v',
      queue: 'FalJobQueue',
    });
  });

  it('routes explicit replicate to ReplicateJobQueue', () => {
    const decision = decide(aJob({ provider: 'replicate' }), withDefaultTable);
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'replicate', queue: 'ReplicateJobQueue' });
  });

  it('explains a routed decision: rules version, matched rule, every candidate and why it was excluded', () => {
    const decision = decide(aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' }), withDefaultTable);
    expect(decision.explanation).toEqual({
      rulesVersion: rulesVersionOf(defaultRoutingTable),
      matchedRule: 'auto-short-720p-fal',
      requestedProvider: 'auto',
      candidates: [
        expect.objectContaining({
          rule: 'explicit-fal',
          verdict: 'excluded',
          reason: 'requested_provider_mismatch',
        }),
        expect.objectContaining({
          rule: 'explicit-replicate',
          verdict: 'excluded',
          reason: 'requested_provider_mismatch',
        }),
        { rule: 'auto-short-720p-fal', provider: 'fal', model: 'wan-i2v', verdict: 'selected' },
      ],
    });
  });

  it('explains a no_route rejection with the condition that excluded each candidate', () => {
    const decision = decide(aJob({ provider: 'auto', lengthSec: 12, resolution: '720p' }), withDefaultTable);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'no_route' });
    expect(decision.explanation.matchedRule).toBe('otherwise-no-route');
    expect(decision.explanation.candidates[2]).toMatchObject({
      rule: 'auto-short-720p-fal',
      reason: 'length_out_of_range',
      detail: 'lengthSec 12 > 10',
    });
    expect(decision.explanation.candidates.at(-1)).toMatchObject({
      rule: 'otherwise-no-route',
      verdict: 'rejects',
    });
  });

  it('records the estimated cost from the model price', () => {
    const decision = decide(aJob({ provider: 'fal', lengthSec: 8 }), withDefaultTable);
    expect(decision.outcome === 'routed' && decision.estimatedCost).toBe(0.4);
  });

  it('needs no credit balance, so the router reads no credits', () => {
    expect(tableNeedsCreditBalance(defaultRoutingTable)).toBe(false);
  });
});

const strictTable = loadRoutingTable({
  version: 'test-strict-1',
  providers: {
    fal: {
      queue: 'FalJobQueue',
      models: {
        'wan-i2v': { maxLengthSec: 10, resolutions: ['720p'], audio: false, pricePerSecond: 1 },
        'veo-like': { minLengthSec: 4, resolutions: ['1080p', '4k'], audio: true, pricePerSecond: 5 },
      },
    },
    replicate: {
      queue: 'ReplicateJobQueue',
      models: { 'wan-2.1-i2v': { maxLengthSec: 60, pricePerSecond: 2 } },
    },
  },
  rules: [
    {
      id: 'explicit-fal-audio',
      description: 'audio goes to the audio model',
      when: { requestedProvider: ['fal'], audio: true },
      route: { provider: 'fal', model: 'veo-like' },
    },
    {
      id: 'explicit-fal',
      description: 'fal',
      when: { requestedProvider: ['fal'] },
      route: { provider: 'fal', model: 'wan-i2v' },
    },
    {
      id: 'explicit-replicate',
      description: 'replicate',
      when: { requestedProvider: ['replicate'] },
      route: { provider: 'replicate', model: 'wan-2.1-i2v' },
    },
    {
      id: 'pro-to-replicate',
      description: 'paying tiers get replicate when they can afford it',
      when: { requestedProvider: ['auto'], tiers: ['pro'], minLengthSec: 2 },
      route: { provider: 'replicate', model: 'wan-2.1-i2v' },
      requireCredits: true,
    },
    {
      id: 'auto-fal',
      description: 'fal for the rest',
      when: { requestedProvider: ['auto'] },
      route: { provider: 'fal', model: 'wan-i2v' },
      requireCredits: true,
    },
  ],
});

describe('decide with a table that declares capabilities and credit rules', () => {
  it('rejects an explicit request the provider cannot serve with capability_mismatch, never switching', () => {
    const decision = decide(aJob({ provider: 'fal', lengthSec: 30, resolution: '720p' }), {
      table: strictTable,
      creditBalance: 1000,
    });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'capability_mismatch' });
    expect(decision.explanation.candidates.find((c) => c.rule === 'explicit-fal')).toMatchObject({
      reason: 'capability_mismatch',
      detail: 'model max 10s < 30s',
    });
  });

  it.each([
    [
      'too short for the model',
      { provider: 'fal', feature: { audio: true }, lengthSec: 2, resolution: '4k' },
      'model min 4s > 2s',
    ],
    [
      'a resolution the model does not render',
      { provider: 'fal', lengthSec: 5, resolution: '1080p' },
      'model does not render 1080p',
    ],
    [
      'audio the model cannot make',
      { provider: 'fal', lengthSec: 5, feature: { audio: false }, resolution: '720p' },
      null,
    ],
  ])('checks capabilities: %s', (_case, job, detail) => {
    const decision = decide(aJob(job), { table: strictTable });
    if (detail === null) expect(decision.outcome).toBe('routed');
    else expect(decision.explanation.candidates.some((c) => c.detail === detail)).toBe(true);
  });

  it('refuses audio on a model that declares no audio', () => {
    const audioless = loadRoutingTable({
      ...strictTable,
      rules: [{ id: 'only', description: '', when: {}, route: { provider: 'fal', model: 'wan-i2v' } }],
    });
    const decision = decide(aJob({ provider: 'auto', feature: { audio: true } }), { table: audioless });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'capability_mismatch' });
  });

  it('routes a pro user who can afford it to replicate and records the balance it saw', () => {
    const decision = decide(aJob({ tier: 'pro', lengthSec: 5 }), { table: strictTable, creditBalance: 10 });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'replicate', estimatedCost: 10 });
    expect(decision.explanation.creditBalance).toBe(10);
  });

  it('falls through to the next rule when the balance does not cover a rule, explaining why', () => {
    const decision = decide(aJob({ tier: 'pro', lengthSec: 5 }), { table: strictTable, creditBalance: 9 });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'fal' });
    expect(decision.explanation.candidates.find((c) => c.rule === 'pro-to-replicate')).toMatchObject({
      reason: 'insufficient_credits',
      detail: 'cost 10 > balance 9',
    });
  });

  it('rejects with insufficient_credits when no rule is affordable', () => {
    const decision = decide(aJob({ tier: 'free', lengthSec: 5 }), { table: strictTable, creditBalance: 1 });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'insufficient_credits' });
  });

  it('treats a missing credit record as no credit (fail closed)', () => {
    const decision = decide(aJob({ tier: 'free', lengthSec: 5 }), {
      table: strictTable,
      creditBalance: null,
    });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'insufficient_credits' });
    expect(decision.explanation.candidates.at(-1)).toMatchObject({ detail: 'no credit record' });
  });

  it('rejects with no_route when no rule matches at all and the table has no fallback', () => {
    const decision = decide(aJob({ tier: 'free', lengthSec: 1, provider: 'auto' }), {
      table: loadRoutingTable({ ...strictTable, rules: strictTable.rules.slice(0, 3) }),
    });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'no_route' });
    expect(decision.explanation.matchedRule).toBeNull();
  });

  it('never lets a rule for another provider take an explicit request', () => {
    const hijacking = loadRoutingTable({
      ...strictTable,
      rules: [
        { id: 'everything-to-fal', description: '', when: {}, route: { provider: 'fal', model: 'wan-i2v' } },
      ],
    });
    const decision = decide(aJob({ provider: 'replicate' }), { table: hijacking });
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'no_route' });
    expect(decision.explanation.candidates[0]).toMatchObject({ reason: 'requested_provider_mismatch' });
  });

  it('knows the table needs credit balances', () => {
    expect(tableNeedsCreditBalance(strictTable)).toBe(true);
  });
});

describe('decide: properties over arbitrary valid jobs', () => {
  const jobs = fc.record({
    lengthSec: fc.double({ min: 0.01, max: 100_000, noNaN: true }),
    // The seed's resolutions and ones no table lists: an explicit request is routed anyway.
    resolution: fc.constantFrom('480p', '720p', '1080p', '4k', '1440p', '8K', ' 720P '),
    tier: fc.constantFrom('free', 'standard', 'pro'),
    provider: fc.constantFrom('auto', 'fal', 'replicate'),
    feature: fc.option(fc.record({ audio: fc.boolean() }), { nil: undefined }),
  });
  const balances = fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: null });

  it('an explicit known provider is never overridden (any table, any balance)', () => {
    fc.assert(
      fc.property(
        jobs,
        balances,
        fc.constantFrom(defaultRoutingTable, strictTable),
        (fields, creditBalance, table) => {
          const decision = decide(aJob(fields), { table, creditBalance });
          if (fields.provider !== 'auto' && decision.outcome === 'routed') {
            expect(decision.provider).toBe(fields.provider);
          }
        },
      ),
    );
  });

  it('with the default table an explicit provider is always routed, and auto follows the seed', () => {
    fc.assert(
      fc.property(jobs, (fields) => {
        const decision = decide(aJob(fields), withDefaultTable);
        const seedRoutes =
          fields.provider !== 'auto' ||
          (fields.lengthSec <= 10 && fields.resolution.trim().toLowerCase() === '720p');
        expect(decision.outcome).toBe(seedRoutes ? 'routed' : 'rejected');
        if (decision.outcome === 'rejected') expect(decision.reason).toBe('no_route');
      }),
    );
  });

  it('is deterministic and every decision names exactly one selected candidate when routed', () => {
    fc.assert(
      fc.property(jobs, balances, (fields, creditBalance) => {
        const job = aJob(fields);
        const first = decide(job, { table: strictTable, creditBalance });
        expect(decide(job, { table: strictTable, creditBalance })).toEqual(first);
        const selected = first.explanation.candidates.filter((c) => c.verdict === 'selected');
        expect(selected).toHaveLength(first.outcome === 'routed' ? 1 : 0);
      }),
    );
  });

  it('estimates cost without float noise', () => {
    expect(estimateCost(3, 0.1)).toBe(0.3);
  });
});
