/**
 * The router's read of the published rules: a short cache in front of the rules log, and what it
 * decides with when the read fails.
 */

import { describe, expect, it } from 'vitest';
import { CorruptRulesRecordError, rulesStateOf } from '../../src/log/rules-records.ts';
import { InMemoryRulesLog } from '../../src/memory/in-memory-rules-log.ts';
import type { RulesLog } from '../../src/ports/rules-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { rulesVersionOf } from '../../src/routing/routing-table.ts';
import { activeRulesOf, CachedActiveRules, canaryBucket, inCanary } from '../../src/rules/active-rules.ts';
import { appendRulesRecord } from '../support/log-appends.ts';
import { aTableRoutingAutoTo, publish, rulesRecordsOf } from '../support/rules.ts';

const toReplicate = aTableRoutingAutoTo('replicate');
const backToFal = aTableRoutingAutoTo('fal', 'back-to-fal');

function aClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('the cached active rules', () => {
  it('given nothing published, when read, then the bundled default decides', async () => {
    const rules = new CachedActiveRules(new InMemoryRulesLog(), {
      defaultTable: defaultRoutingTable,
      now: aClock().now,
    });
    expect(await rules.current()).toMatchObject({
      table: defaultRoutingTable,
      source: 'default',
      recordVersion: null,
    });
  });

  it('given a new version is published, when the cache expires, then the next read picks it up (and not before)', async () => {
    const log = new InMemoryRulesLog();
    const clock = aClock();
    const [first, second] = rulesRecordsOf([publish(toReplicate), publish(backToFal)]);
    await appendRulesRecord(log, first as never);
    const rules = new CachedActiveRules(log, {
      defaultTable: defaultRoutingTable,
      now: clock.now,
      ttlMs: 5_000,
    });
    expect(rulesVersionOf((await rules.current()).table)).toBe(rulesVersionOf(toReplicate));
    await appendRulesRecord(log, second as never);
    clock.advance(4_999);
    expect(rulesVersionOf((await rules.current()).table)).toBe(rulesVersionOf(toReplicate));
    expect(log.reads).toBe(1);
    clock.advance(1);
    expect(rulesVersionOf((await rules.current()).table)).toBe(rulesVersionOf(backToFal));
    expect(log.reads).toBe(2);
  });

  it('given many concurrent decisions on an expired cache, when they read, then one read serves them all', async () => {
    const log = new InMemoryRulesLog();
    const rules = new CachedActiveRules(log, { defaultTable: defaultRoutingTable, now: aClock().now });
    await Promise.all(Array.from({ length: 20 }, () => rules.current()));
    expect(log.reads).toBe(1);
  });

  it('given the read fails after a good one, when read, then the last known version decides, marked stale, and the failure is told', async () => {
    const inner = new InMemoryRulesLog();
    await appendRulesRecord(inner, rulesRecordsOf([publish(toReplicate)])[0] as never);
    let failing = false;
    const log: RulesLog = {
      latest: (stream) => (failing ? Promise.reject(new Error('throttled')) : inner.latest(stream)),
      readStream: (stream) => inner.readStream(stream),
      appendToStream: (stream, records, options) => inner.appendToStream(stream, records, options),
    };
    const clock = aClock();
    const failures: string[] = [];
    const rules = new CachedActiveRules(log, {
      defaultTable: defaultRoutingTable,
      now: clock.now,
      ttlMs: 1_000,
      retryAfterFailureMs: 100,
      onReadFailure: (_error, using) => failures.push(using),
    });
    await rules.current();
    failing = true;
    clock.advance(1_000);
    const stale = await rules.current();
    expect(stale.source).toBe('stale');
    expect(rulesVersionOf(stale.table)).toBe(rulesVersionOf(toReplicate));
    expect(failures).toEqual(['stale']);
    failing = false;
    clock.advance(100);
    expect((await rules.current()).source).toBe('published');
  });

  it('given the first read fails, when read, then the bundled default decides, marked fallback', async () => {
    const log: RulesLog = {
      latest: () => Promise.reject(new Error('down')),
      readStream: async () => [],
      appendToStream: async () => 0,
    };
    const rules = new CachedActiveRules(log, { defaultTable: defaultRoutingTable, now: aClock().now });
    expect(await rules.current()).toMatchObject({ table: defaultRoutingTable, source: 'fallback' });
  });

  it('given a stored table whose content does not match its id, when read, then it is a corrupt record', () => {
    const rules = rulesStateOf(rulesRecordsOf([publish(toReplicate)]));
    const tampered = {
      ...rules,
      active: { rulesVersion: rules.active?.rulesVersion ?? '', table: JSON.stringify(backToFal) },
    };
    expect(() => activeRulesOf(tampered, defaultRoutingTable)).toThrow(CorruptRulesRecordError);
    const unreadable = { ...rules, active: { rulesVersion: 'x@1', table: '{' } };
    expect(() => activeRulesOf(unreadable, defaultRoutingTable)).toThrow(/unreadable/);
  });
});

describe('canary buckets', () => {
  it('given a jobId, when bucketed again and again, then it always lands in the same bucket', () => {
    const buckets = Array.from({ length: 5 }, () => canaryBucket('job-42'));
    expect(new Set(buckets).size).toBe(1);
  });

  it('given 10,000 jobs and a 10 % canary, when bucketed, then about a tenth use the candidate', () => {
    const used = Array.from({ length: 10_000 }, (_, i) => inCanary(canaryBucket(`job-${i}`), 10)).filter(
      Boolean,
    ).length;
    expect(used).toBeGreaterThan(900);
    expect(used).toBeLessThan(1_100);
  });
});
