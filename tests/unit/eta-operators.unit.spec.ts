import { describe, expect, it } from 'vitest';
import { quoteSummary } from '../../src/cli/verbs/history.ts';
import { costErrors } from '../../src/queries/what-if.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import type { EtaContext, PairEta } from '../../src/routing/eta.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';

const charged = (chargedMicroUsd: number, chargedOutputMs: number): PairEta => ({
  run: {},
  runAll: null,
  queue: null,
  attempts: 1,
  succeeded: 1,
  chargedMicroUsd,
  chargedOutputMs,
  fromMs: 0,
  toMs: 10_000,
});

describe('operator renderings of quotes', () => {
  it('given quotes, then history says the times, cost, free slots and where they come from', () => {
    expect(
      quoteSummary({
        etaP50Sec: 180,
        etaP95Sec: 840,
        costEstimateUsd: 0.42,
        slotsFree: 3,
        basis: 'segment',
        samples: 12,
      }),
    ).toBe('180s/840s, $0.42, 3 free (segment, 12 samples)');
    expect(
      quoteSummary({
        etaP50Sec: 600,
        etaP95Sec: 600,
        costEstimateUsd: null,
        slotsFree: null,
        basis: 'default',
        samples: 0,
      }),
    ).toBe('600s/600s (default)');
  });

  it('given charges recorded, then the cost error is listed per model that reported one', () => {
    const table = loadRoutingTable({ ...defaultRoutingTable, version: 'usd', usdPerCredit: 1 });
    const eta: EtaContext = {
      pairs: { 'fal#wan-i2v': charged(1_000_000, 16_000), 'replicate#wan-2.1-i2v': charged(0, 0) },
      slotsFree: {},
    };
    expect(costErrors(table, eta)).toEqual([
      { provider: 'fal', model: 'wan-i2v', error: 0.25, chargedUsd: 1, outputSec: 16 },
    ]);
    expect(costErrors(defaultRoutingTable, eta)[0]?.error).toBeNull();
    expect(costErrors(table, undefined)).toEqual([]);
  });
});
