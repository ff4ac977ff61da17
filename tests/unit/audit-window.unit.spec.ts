import { describe, expect, it } from 'vitest';
import {
  auditWindow,
  daysOf,
  InvalidAuditWindowError,
  MAX_WINDOW_DAYS,
  parseInstant,
  partitionsOf,
} from '../../src/queries/audit-window.ts';
import { byIndexOrder, matchesFilter } from '../../src/queries/decision-filter.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const now = new Date('2026-11-25T12:00:00.000Z');

describe('audit window', () => {
  it.each([
    ['2026-11-25', '2026-11-25T00:00:00.000Z'],
    ['2026-11-25T10:00:00Z', '2026-11-25T10:00:00.000Z'],
    ['2026-11-25T11:30:00+01:00', '2026-11-25T10:30:00.000Z'],
    ['now', '2026-11-25T12:00:00.000Z'],
    ['90m', '2026-11-25T10:30:00.000Z'],
    ['6h', '2026-11-25T06:00:00.000Z'],
    ['2d', '2026-11-23T12:00:00.000Z'],
    ['1w', '2026-11-18T12:00:00.000Z'],
  ])('given "%s", when parsed, then it is the UTC instant %s', (text, expected) => {
    expect(parseInstant(text, now)).toBe(expected);
  });

  it.each([
    'yesterday',
    '2026-11-25T10:00:00',
    '2026-13-45',
    '',
    '5y',
    '99999999999999999999h',
    '9999999999w',
  ])('given "%s", when parsed, then it is refused with a typed error', (text) => {
    expect(() => parseInstant(text, now)).toThrow(InvalidAuditWindowError);
  });

  it('given since after until, when the window is built, then it is refused', () => {
    expect(() => auditWindow('2026-11-25T10:00:00Z', '2026-11-25T09:00:00Z', now)).toThrow(/must be before/);
  });

  it('given a window longer than the limit, when built, then it is refused', () => {
    expect(() => auditWindow(`${MAX_WINDOW_DAYS + 1}d`, 'now', now)).toThrow(/at most/);
  });

  it('given a window ending exactly at midnight, when its days are listed, then the day of until is excluded', () => {
    const window = auditWindow('2026-11-23T22:00:00Z', '2026-11-25', now);
    expect(daysOf(window)).toEqual(['2026-11-23', '2026-11-24']);
  });

  it('given a window within one day, when its partitions are listed, then each provider has the 8 shards of that day', () => {
    const window = auditWindow('2026-11-25T10:00:00Z', '2026-11-25T11:00:00Z', now);
    const partitions = partitionsOf(['fal', 'none'], window);
    expect(partitions).toHaveLength(16);
    expect(partitions.map((p) => p.gsi1pk)).toContain('fal#2026-11-25#0');
    expect(partitions.map((p) => p.gsi1pk)).toContain('none#2026-11-25#7');
  });

  it('given two days and one provider, when partitions are listed, then they are day by day: days × 8', () => {
    const window = auditWindow('2026-11-24T23:00:00Z', '2026-11-25T01:00:00Z', now);
    const partitions = partitionsOf(['fal'], window);
    expect(partitions).toHaveLength(16);
    expect(partitions[0]?.day).toBe('2026-11-24');
    expect(partitions[15]?.day).toBe('2026-11-25');
  });
});

describe('decision filter', () => {
  const routed = aDecisionRecord({ provider: 'fal' }, '2026-11-25T10:00:02.000Z');
  const rejected = aDecisionRecord({ resolution: '4k' }, '2026-11-25T10:00:01.000Z');

  it('given an outcome filter, when applied, then only that outcome passes', () => {
    expect(matchesFilter(routed, { outcome: 'routed' })).toBe(true);
    expect(matchesFilter(rejected, { outcome: 'routed' })).toBe(false);
  });

  it('given reason or model lists, when applied, then only rejections with one of the reasons or routings to one of the models pass', () => {
    expect(matchesFilter(rejected, { reasons: ['no_route'] })).toBe(true);
    expect(matchesFilter(rejected, { reasons: ['insufficient_credits', 'no_route'] })).toBe(true);
    expect(matchesFilter(rejected, { reasons: ['insufficient_credits'] })).toBe(false);
    expect(matchesFilter(routed, { reasons: ['no_route'] })).toBe(false);
    expect(
      matchesFilter(routed, { models: [routed.type === 'RoutingDecided' ? routed.data.model : ''] }),
    ).toBe(true);
    expect(matchesFilter(routed, { models: ['another-model'] })).toBe(false);
    expect(matchesFilter(rejected, { models: ['wan-i2v'] })).toBe(false);
    expect(matchesFilter(routed, { reasons: [], models: [] })).toBe(true);
    expect(matchesFilter(routed, {})).toBe(true);
  });

  it('given decisions of several partitions, when sorted, then they follow the recorded time', () => {
    expect([routed, rejected].sort(byIndexOrder)).toEqual([rejected, routed]);
    expect(byIndexOrder(routed, routed)).toBe(0);
  });
});
