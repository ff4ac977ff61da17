/** Builders for capacity tests: the default table with provider concurrencies declared. */
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import type { PairEta } from '../../src/routing/eta.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';

/** The seed table with `concurrency` (and optionally a job timeout) per provider, and rule overrides by id. */
export function aTableWithConcurrency(
  limits: Record<string, number | { concurrency: number; jobTimeoutSec?: number }>,
  ruleOverrides: Record<string, Record<string, unknown>> = {},
): RoutingTable {
  const table = structuredClone(defaultRoutingTable) as unknown as {
    version: string;
    providers: Record<string, Record<string, unknown>>;
    rules: Record<string, unknown>[];
  };
  for (const [provider, limit] of Object.entries(limits)) {
    Object.assign(
      table.providers[provider] ?? {},
      typeof limit === 'number' ? { concurrency: limit } : limit,
    );
  }
  table.rules = table.rules.map((rule) => ({ ...rule, ...ruleOverrides[rule.id as string] }));
  return loadRoutingTable({ ...table, version: 'capacity-test' });
}

/** Percentiles of `seconds` (p95 half as long again as p50) from `samples` measurements. */
export const measuredTimes = (seconds: number, samples = 5) => ({
  p50Ms: seconds * 1000,
  p95Ms: seconds * 1500,
  samples,
});

/** A provider/model pair's recorded windows: 5 attempts, all succeeded, each 720p/10 s run taking `runSec`. */
export function aMeasuredPair(runSec: number, overrides: Partial<PairEta> = {}): PairEta {
  return {
    run: { '720p|l10': measuredTimes(runSec) },
    runAll: measuredTimes(runSec),
    queue: null,
    attempts: 5,
    succeeded: 5,
    chargedMicroUsd: 0,
    chargedOutputMs: 0,
    fromMs: 0,
    toMs: 10_000,
    ...overrides,
  };
}
