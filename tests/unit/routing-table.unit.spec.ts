import { describe, expect, it } from 'vitest';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import {
  InvalidRoutingTableError,
  loadRoutingTable,
  routingTableProblems,
} from '../../src/routing/routing-table.ts';

const base = {
  version: 'v1',
  providers: { fal: { queue: 'FalJobQueue', models: { 'wan-i2v': { pricePerSecond: 1 } } } },
  rules: [{ id: 'all', description: '', when: {}, route: { provider: 'fal', model: 'wan-i2v' } }],
};

describe('loading a routing table', () => {
  it('accepts the default table and defaults requireCredits to false', () => {
    expect(loadRoutingTable(base).rules[0]).toMatchObject({ requireCredits: false });
    expect(defaultRoutingTable.rules.map((r) => r.id)).toEqual([
      'explicit-fal',
      'explicit-replicate',
      'auto-short-720p-fal',
      'otherwise-no-route',
    ]);
  });

  it.each([
    [
      'a rule routing to an unknown model',
      { rules: [{ id: 'x', description: '', when: {}, route: { provider: 'fal', model: 'nope' } }] },
      'rules[0].route.model: "nope" is not a model of fal (wan-i2v)',
    ],
    [
      'two rules with one id',
      { rules: [base.rules[0], base.rules[0]] },
      'rules[1].id: duplicate rule id "all" (also rules[0])',
    ],
    ['no rules', { rules: [] }, 'rules'],
    [
      'a typo in a condition',
      {
        rules: [
          {
            id: 'x',
            description: '',
            when: { maxLenghtSec: 3 },
            route: { provider: 'fal', model: 'wan-i2v' },
          },
        ],
      },
      'rules[0].when.maxLenghtSec: unknown field (allowed: requestedProvider, tiers,',
    ],
    [
      'a negative price',
      { providers: { fal: { queue: 'Q', models: { 'wan-i2v': { pricePerSecond: -1 } } } } },
      'providers.fal.models.wan-i2v.pricePerSecond',
    ],
    ['a provider without models', { providers: { fal: { queue: 'Q', models: {} } } }, 'providers.fal.models'],
  ])('rejects %s, naming where', (_case, override, where) => {
    let caught: unknown;
    try {
      loadRoutingTable({ ...base, ...override });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRoutingTableError);
    expect((caught as InvalidRoutingTableError).issues.some((issue) => issue.startsWith(where))).toBe(true);
  });
});

describe('the problems of a candidate table', () => {
  it('given a table with several mistakes, when validated, then every problem is listed at once with its path and the allowed values', () => {
    const problems = routingTableProblems({
      version: 'v2',
      providers: { fal: { queue: 'FalJobQueue', models: { 'wan-2.1': { pricePerSecond: -1 } } } },
      rules: [
        {
          id: 'a',
          description: '',
          when: { resolutions: ['8 K'], requestedProvider: ['auto', 'veo'] },
          route: { provider: 'fal', model: 'wan-2.1' },
        },
        { id: 'a', description: '', when: {}, reject: 'nope' },
        { id: 'Bad Id', when: { maxLengthSec: -1 } },
        { id: 'c', description: '', when: {}, route: { provider: 'veo', model: 'v' } },
      ],
      colour: 'blue',
    });
    expect(problems).toEqual([
      'providers.fal.models["wan-2.1"].pricePerSecond: -1 must be at least 0',
      'rules[0].when.resolutions[0]: "8 K" is not a resolution name: lower-case a-z, 0-9, . _ - (at most 16)',
      'rules[1].reject: "nope" is not one of no_route',
      'rules[2].id: "Bad Id" is not a name: lower-case a-z, 0-9, . _ - (at most 64)',
      'rules[2].description: missing (expected string)',
      'rules[2].when.maxLengthSec: -1 must be more than 0',
      'colour: unknown field (allowed: version, providers, rules, tiers, usdPerCredit, etaMinSamples)',
      'rules[0].when.requestedProvider[1]: "veo" is not auto or a declared provider (fal)',
      'rules[1].id: duplicate rule id "a" (also rules[0])',
      'rules[2]: needs "route" (provider and model) or "reject"',
      'rules[3].route.provider: "veo" is not a declared provider (fal)',
    ]);
  });

  it('given something that is not an object, when validated, then the one problem says so', () => {
    expect(routingTableProblems([1])).toEqual(['(table): expected object, got [1]']);
  });

  it('given a table with too long a string and a rule with an unknown field, when validated, then both are named', () => {
    const problems = routingTableProblems({
      version: '',
      providers: { fal: { queue: 'Q', models: { m: { pricePerSecond: 1 } }, region: 'eu' } },
      rules: [
        { id: 'r', description: '', when: {}, route: { provider: 'fal', model: 'm', weight: 1 }, prio: 1 },
      ],
    });
    expect(problems).toEqual([
      'version: needs at least 1 character(s)',
      'providers.fal.region: unknown field (allowed: queue, models, concurrency, jobTimeoutSec, defaultEtaSec)',
      'rules[0].route.weight: unknown field (allowed: provider, model)',
      'rules[0].prio: unknown field (allowed: id, description, when, route, requireCredits, fallbacks, whenAllUnhealthy, whenAllFull, maxHoldSec, atMaxHold, prefer, reject)',
    ]);
  });

  it('given the default table, when validated, then it has no problem', () => {
    expect(routingTableProblems(JSON.parse(JSON.stringify(defaultRoutingTable)))).toEqual([]);
  });
});
