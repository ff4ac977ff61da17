import { describe, expect, it } from 'vitest';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { InvalidRoutingTableError, loadRoutingTable } from '../../src/routing/routing-table.ts';

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
      'rules.0.route: unknown provider/model fal/nope',
    ],
    ['two rules with one id', { rules: [base.rules[0], base.rules[0]] }, 'rules.1.id: duplicate rule id'],
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
      'rules.0',
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
