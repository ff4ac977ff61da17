/**
 * Quotes, `prefer` and `maxEtaSec` (issue 21): pure decisions over measured completion times.
 */
import { describe, expect, it } from 'vitest';
import { decisionRecord } from '../../src/log/routing-records.ts';
import { quoteFromText, quoteText, recordFromItem, storedItemOf } from '../../src/log/stored-records.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import {
  costErrorOf,
  DEFAULT_ETA_SEC,
  type EtaContext,
  lengthBucketOf,
  quoteOf,
  segmentOf,
  tableUsesEta,
} from '../../src/routing/eta.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';
import { aMeasuredPair, aTableWithConcurrency, measuredTimes } from '../support/capacity.ts';
import { aJob } from '../support/jobs.ts';

/** The seed table with the auto rule's preference (and extra table fields) set. */
function aTable(rule: Record<string, unknown>, extra: Record<string, unknown> = {}): RoutingTable {
  const table = structuredClone(defaultRoutingTable) as unknown as Record<string, unknown> & {
    rules: Record<string, unknown>[];
  };
  table.rules = table.rules.map((r) => (r.id === 'auto-short-720p-fal' ? { ...r, ...rule } : r));
  return loadRoutingTable({ ...table, ...extra, version: 'eta-test' });
}

const measured = (fal: number, replicate: number): EtaContext => ({
  pairs: { 'fal#wan-i2v': aMeasuredPair(fal), 'replicate#wan-2.1-i2v': aMeasuredPair(replicate) },
  slotsFree: {},
});
const autoJob = aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' });

describe('prefer', () => {
  it('given prefer eta and replicate measured faster, when an auto job is decided, then it goes to replicate with every candidate quoted', () => {
    const decision = decide(autoJob, { table: aTable({ prefer: 'eta' }), eta: measured(840, 180) });
    expect(decision).toMatchObject({ outcome: 'routed', provider: 'replicate' });
    const quoted = decision.explanation.candidates.filter((c) => c.rule === 'auto-short-720p-fal');
    expect(quoted.map((c) => [c.provider, c.verdict, c.reason, c.detail, c.quote?.etaP95Sec])).toEqual([
      ['replicate', 'selected', undefined, undefined, 270],
      ['fal', 'excluded', 'not_preferred', 'p95 1260s vs 270s', 1260],
    ]);
  });

  it('given prefer order (the default), when replicate is faster, then the written order still decides', () => {
    expect(decide(autoJob, { table: aTable({}), eta: measured(840, 180) })).toMatchObject({
      provider: 'fal',
    });
    expect(decide(autoJob, { table: aTable({ prefer: 'order' }), eta: measured(840, 180) })).toMatchObject({
      provider: 'fal',
    });
  });

  it('given prefer cost, then the cheaper estimate wins whatever the times', () => {
    const table = aTable({ prefer: 'cost' });
    expect(decide(autoJob, { table, eta: measured(840, 180) })).toMatchObject({ provider: 'fal' });
  });

  it('given prefer eta and equal quotes, then the written order breaks the tie', () => {
    expect(decide(autoJob, { table: aTable({ prefer: 'eta' }), eta: measured(60, 60) })).toMatchObject({
      provider: 'fal',
    });
  });

  it('given prefer eta and no measurements, then both quotes are defaults and the order decides, recorded as default', () => {
    const decision = decide(autoJob, { table: aTable({ prefer: 'eta' }) });
    expect(decision).toMatchObject({ provider: 'fal' });
    const selected = decision.explanation.candidates.find((c) => c.verdict === 'selected');
    expect(selected?.quote).toEqual({
      etaP50Sec: DEFAULT_ETA_SEC,
      etaP95Sec: DEFAULT_ETA_SEC,
      costEstimateUsd: null,
      slotsFree: null,
      basis: 'default',
      samples: 0,
    });
  });

  it('given an explicit job and prefer eta, then it is never switched', () => {
    const decision = decide(aJob({ provider: 'fal' }), {
      table: aTable({ prefer: 'eta' }),
      eta: measured(840, 1),
    });
    expect(decision).toMatchObject({ provider: 'fal' });
  });
});

describe('maxEtaSec', () => {
  const tiers = (maxEtaSec: number) => ({ tiers: { standard: { maxEtaSec } } });

  it('given a tier bound and fal over it, when decided, then fal is excluded (recorded) and replicate chosen', () => {
    const table = aTable({}, tiers(600));
    const decision = decide(aJob({ provider: 'auto', lengthSec: 8, resolution: '720p', tier: 'standard' }), {
      table,
      eta: measured(840, 180),
    });
    expect(decision).toMatchObject({ provider: 'replicate' });
    expect(decision.explanation.candidates).toContainEqual(
      expect.objectContaining({ provider: 'fal', reason: 'eta_over_limit', detail: 'p95 1260s > 600s' }),
    );
  });

  it('given every candidate over the bound, then the first is taken anyway (the only ones left), recorded', () => {
    const table = aTable({}, tiers(60));
    const decision = decide(aJob({ provider: 'auto', lengthSec: 8, resolution: '720p', tier: 'standard' }), {
      table,
      eta: measured(840, 180),
    });
    expect(decision).toMatchObject({ provider: 'fal' });
    expect(decision.explanation.candidates.at(-1)).toMatchObject({
      provider: 'fal',
      verdict: 'selected',
      detail: 'every candidate over maxEtaSec',
    });
  });

  it('given another tier, then the bound does not apply', () => {
    const table = aTable({}, tiers(60));
    expect(
      decide(aJob({ provider: 'auto', lengthSec: 8, resolution: '720p', tier: 'pro' }), {
        table,
        eta: measured(840, 180),
      }),
    ).toMatchObject({ provider: 'fal' });
  });
});

describe('quotes', () => {
  const table = aTable({ prefer: 'eta' }, { usdPerCredit: 0.01 });

  it('given a segment with samples, then the quote adds the queue wait to the run time, in whole seconds', () => {
    const context: EtaContext = {
      pairs: { 'fal#wan-i2v': aMeasuredPair(100, { queue: measuredTimes(20) }) },
      slotsFree: { fal: 2 },
    };
    expect(quoteOf({ provider: 'fal', model: 'wan-i2v' }, autoJob, table, context, 0.4)).toEqual({
      etaP50Sec: 120,
      etaP95Sec: 180,
      costEstimateUsd: 0.004,
      slotsFree: 2,
      basis: 'segment',
      samples: 5,
    });
  });

  it('given too few samples in the segment, then the model, then the provider-wide reports, then the default are used', () => {
    const other = aJob({ provider: 'auto', lengthSec: 60, resolution: '1080p' });
    const target = { provider: 'fal', model: 'wan-i2v' };
    const model: EtaContext = { pairs: { 'fal#wan-i2v': aMeasuredPair(100) }, slotsFree: {} };
    expect(quoteOf(target, other, table, model, null).basis).toBe('model');
    const wide: EtaContext = { pairs: { 'fal#-': aMeasuredPair(50) }, slotsFree: {} };
    expect(quoteOf(target, autoJob, table, wide, null)).toMatchObject({ basis: 'provider', etaP50Sec: 50 });
    const strict = aTable({ prefer: 'eta' }, { etaMinSamples: 10 });
    expect(quoteOf(target, autoJob, strict, model, null)).toMatchObject({ basis: 'default', samples: 0 });
  });

  it('given table defaults, then a cold start uses the model default, else the provider default', () => {
    const raw = structuredClone(defaultRoutingTable) as unknown as {
      providers: Record<string, Record<string, unknown>>;
    };
    (raw.providers.fal as { defaultEtaSec?: number }).defaultEtaSec = 300;
    (
      (raw.providers.replicate as { models: Record<string, Record<string, unknown>> }).models[
        'wan-2.1-i2v'
      ] as Record<string, unknown>
    ).defaultEtaSec = 90;
    const withDefaults = loadRoutingTable({ ...raw, version: 'defaults' });
    expect(
      quoteOf(
        { provider: 'fal', model: 'wan-i2v' },
        autoJob,
        withDefaults,
        { pairs: {}, slotsFree: {} },
        null,
      ).etaP95Sec,
    ).toBe(300);
    expect(
      quoteOf(
        { provider: 'replicate', model: 'wan-2.1-i2v' },
        autoJob,
        withDefaults,
        { pairs: {}, slotsFree: {} },
        null,
      ).etaP95Sec,
    ).toBe(90);
  });

  it('given tables, then only preferences and tier bounds make a table use quotes', () => {
    expect(tableUsesEta(defaultRoutingTable)).toBe(false);
    expect(tableUsesEta(aTable({ prefer: 'order' }))).toBe(false);
    expect(tableUsesEta(aTable({ prefer: 'cost' }))).toBe(true);
    expect(tableUsesEta(aTable({}, { tiers: { standard: { maxEtaSec: 60 } } }))).toBe(true);
    expect(tableUsesEta(aTable({}, { tiers: { standard: {} } }))).toBe(false);
  });

  it('given lengths, then segments name the resolution and the length bucket', () => {
    expect([5, 10, 11, 120, 121].map(lengthBucketOf)).toEqual(['l5', 'l10', 'l30', 'l120', 'l+']);
    expect(segmentOf({ resolution: '720p', lengthSec: 8 })).toBe('720p|l10');
  });

  it('given charges reported, then the cost error compares them with the estimate in dollars', () => {
    const pair = { chargedMicroUsd: 600_000, chargedOutputMs: 10_000 };
    expect(costErrorOf(pair, 5, 0.01)).toBe(0.2);
    expect(costErrorOf(pair, 5, undefined)).toBeNull();
    expect(costErrorOf(pair, 0, 0.01)).toBeNull();
    expect(costErrorOf({ chargedMicroUsd: 0, chargedOutputMs: 0 }, 5, 0.01)).toBeNull();
    expect(costErrorOf(undefined, 5, 0.01)).toBeNull();
  });
});

describe('quotes as stored', () => {
  it('given quotes, when written as text and read back, then they are the same', () => {
    const quotes = [
      {
        etaP50Sec: 180,
        etaP95Sec: 840,
        costEstimateUsd: 0.42,
        slotsFree: 3,
        basis: 'segment' as const,
        samples: 12,
      },
      {
        etaP50Sec: 600,
        etaP95Sec: 600,
        costEstimateUsd: null,
        slotsFree: null,
        basis: 'default' as const,
        samples: 0,
      },
    ];
    expect(quotes.map(quoteText)).toEqual(['180/840/0.42/3/s12', '600/600///d']);
    expect(quotes.map(quoteText).map(quoteFromText)).toEqual(quotes);
    expect([42, 'x/y', '1/2/3/4/z', undefined].map(quoteFromText)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('given a routed decision with quotes, when stored and read back, then the trail keeps them', () => {
    const job = aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' });
    const decision = decide(job, { table: aTable({ prefer: 'eta' }), eta: measured(840, 180) });
    const record = decisionRecord(
      {
        eventId: 'e-1',
        submittedAt: null,
        recordedAt: '2026-12-06T10:00:00.000Z',
        detail: {},
        payloadHash: 'a'.repeat(64),
      },
      job,
      decision,
      null,
    );
    expect(recordFromItem(storedItemOf(record))).toEqual(record);
  });

  it('given the default table, then no quote is recorded (the seed record is unchanged)', () => {
    const decision = decide(autoJob, { table: defaultRoutingTable });
    expect(decision.explanation.candidates.some((c) => c.quote)).toBe(false);
    const full = decide(autoJob, { table: aTableWithConcurrency({ fal: 2 }) });
    expect(full.explanation.candidates.some((c) => c.quote)).toBe(false);
  });
});
