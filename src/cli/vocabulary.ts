/**
 * The values an operator may name, taken from the routing tables and the reason codes, and the one
 * check every command applies to them: a typo is a usage error (exit 2) that lists the allowed
 * values — never an empty result with exit 0. Lists are accepted one way everywhere: repeat the
 * option or separate values with commas (`collect` in ./options.ts).
 *
 * The tables are the bundled default and every table ever published (`rules publish`, shadows and
 * canaries included), so a provider that decisions were once filed under stays nameable. The
 * published ones are read only when a value is not in the bundled table.
 */

import { REJECTION_REASONS } from '../intake/reason-codes.ts';
import { AUTO_PROVIDER } from '../intake/submission.ts';
import { OUTCOME_FILTERS } from '../queries/decision-filter.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { loadRoutingTable, type RoutingTable } from '../routing/routing-table.ts';
import { type CliContext, UsageError } from './cli-context.ts';
import { readRulesState } from './rules-state.ts';

export interface Vocabulary {
  /** Index partitions: routed-to providers, `auto` (requested) and `none` (intake rejections). */
  readonly providers: readonly string[];
  readonly models: readonly string[];
  readonly reasons: readonly string[];
  readonly outcomes: readonly string[];
}

export function vocabularyOf(tables: readonly RoutingTable[] = [defaultRoutingTable]): Vocabulary {
  const providers = new Set<string>(['none', AUTO_PROVIDER]);
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

/** Every table ever published in this stage's log (an unreadable stored table is skipped). */
export async function publishedTables(context: CliContext): Promise<RoutingTable[]> {
  const tables: RoutingTable[] = [];
  for (const { stored } of (await readRulesState(context)).tables.values()) {
    try {
      tables.push(loadRoutingTable(JSON.parse(stored.table)));
    } catch {
      // A stored table that no longer loads names nothing new; the check goes on without it.
    }
  }
  return tables;
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

export interface NamedValues {
  readonly providers?: readonly string[];
  readonly models?: readonly string[];
  readonly reasons?: readonly string[];
}

/**
 * Checks what an operator named against the bundled table (and `extra` tables, e.g. a what-if
 * candidate); only if something is not there, against the published tables too.
 */
export async function checkNames(
  context: CliContext,
  named: NamedValues,
  extra: readonly RoutingTable[] = [],
): Promise<void> {
  const check = (vocabulary: Vocabulary) => {
    checked('--provider', named.providers ?? [], vocabulary.providers);
    checked('--model', named.models ?? [], vocabulary.models);
    checked('--reason', named.reasons ?? [], vocabulary.reasons);
  };
  try {
    check(vocabularyOf([defaultRoutingTable, ...extra]));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    check(vocabularyOf([defaultRoutingTable, ...extra, ...(await publishedTables(context))]));
  }
}

/** Every provider of the tables with its models: what has a breaker (`auto` and `none` have none). */
export function providerModelsOf(tables: readonly RoutingTable[]): Map<string, string[]> {
  const catalogue = new Map<string, Set<string>>();
  for (const table of tables) {
    for (const [provider, { models }] of Object.entries(table.providers)) {
      const known = catalogue.get(provider) ?? new Set<string>();
      for (const model of Object.keys(models)) known.add(model);
      catalogue.set(provider, known);
    }
  }
  return new Map([...catalogue].sort(([a], [b]) => a.localeCompare(b)).map(([p, m]) => [p, [...m].sort()]));
}

/**
 * A provider (and model) an operator names for a breaker, checked against the bundled table and —
 * only if it is not there — every published one: a typo is a UsageError listing the allowed
 * values, so `provider open fla` records nothing. Returns the tables' providers and their models.
 */
export async function checkBreakerName(
  context: CliContext,
  provider: string,
  model: string | null,
): Promise<Map<string, string[]>> {
  const check = (catalogue: Map<string, string[]>) => {
    const models = catalogue.get(provider);
    if (!models) {
      throw new UsageError(
        `provider ${JSON.stringify(provider)} is not a provider of the routing tables; allowed: ${[...catalogue.keys()].join(', ')}`,
      );
    }
    if (model !== null && !models.includes(model)) {
      throw new UsageError(
        `--model ${JSON.stringify(model)} is not a model of ${provider}; allowed: ${models.join(', ')}`,
      );
    }
    return catalogue;
  };
  try {
    return check(providerModelsOf([defaultRoutingTable]));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return check(providerModelsOf([defaultRoutingTable, ...(await publishedTables(context))]));
  }
}
