/**
 * The values an operator may name, taken from the active routing table and the reason codes, and
 * the one check every command applies to them: a typo is a usage error (exit 2) that lists the
 * allowed values — never an empty result with exit 0. Lists are accepted one way everywhere:
 * repeat the option or separate values with commas (`collect` in ./commands/decisions.ts).
 */
import { OUTCOME_FILTERS } from '../audit/decision-filter.ts';
import { REJECTION_REASONS } from '../intake/reason-codes.ts';
import { PROVIDER_CHOICES } from '../intake/submission.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { UsageError } from './cli-context.ts';

/** The table the router decides with (src/handlers/router.ts). */
export const activeRoutingTable = (): RoutingTable => defaultRoutingTable;

export interface Vocabulary {
  /** Index partitions: routed-to providers, requestable ones (`auto`, …) and `none` (intake rejections). */
  readonly providers: readonly string[];
  readonly models: readonly string[];
  readonly reasons: readonly string[];
  readonly outcomes: readonly string[];
}

export function vocabularyOf(tables: readonly RoutingTable[] = [activeRoutingTable()]): Vocabulary {
  const providers = new Set<string>(['none', ...PROVIDER_CHOICES]);
  const models = new Set<string>();
  for (const table of tables) {
    for (const [provider, { models: ofProvider }] of Object.entries(table.providers)) {
      providers.add(provider);
      for (const model of Object.keys(ofProvider)) models.add(model);
    }
  }
  return {
    providers: [...providers].sort(),
    models: [...models].sort(),
    reasons: [...REJECTION_REASONS],
    outcomes: [...OUTCOME_FILTERS],
  };
}

/** The values, if every one is allowed; otherwise a UsageError naming each unknown one and the allowed values. */
export function checked(option: string, values: readonly string[], allowed: readonly string[]): string[] {
  const unknown = values.filter((value) => !allowed.includes(value));
  if (unknown.length > 0) {
    const named = unknown.map((value) => JSON.stringify(value)).join(', ');
    throw new UsageError(
      `${option} ${named} ${unknown.length === 1 ? 'is' : 'are'} not allowed; allowed: ${allowed.join(', ')}`,
    );
  }
  return [...values];
}
