/** Builders for capacity tests: the default table with provider concurrencies declared. */
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
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
