/**
 * A table named on the command line of a `rules` verb (`active`, `default`, a file, or a published
 * version), found in the fold of the `rules#routing` stream (src/cli/rules-state.ts).
 */
import { existsSync } from 'node:fs';
import { type CarriedTable, type RulesState, tableOf } from '../../../log/rules-records.ts';
import { defaultRoutingTable } from '../../../routing/default-table.ts';
import { type RoutingTable, rulesVersionOf } from '../../../routing/routing-table.ts';
import { type CliContext, UsageError } from '../../cli-context.ts';
import { readRoutingTableFile } from '../../rules-files.ts';
import { activeRulesIn, readRulesState } from '../../rules-state.ts';

/** A table the stream stored, parsed and re-validated (CorruptRulesRecordError names its record). */
export const tableCarried = (rules: RulesState, carried: CarriedTable): RoutingTable =>
  tableOf(carried.stored, { stream: rules.stream, version: carried.version });

/** `active`, `default`, a file, or a published content id (a unique prefix or label will do). */
export async function resolveTable(
  context: CliContext,
  reference: string,
): Promise<{ name: string; table: RoutingTable }> {
  if (reference === 'default') return { name: 'default', table: defaultRoutingTable };
  if (existsSync(reference))
    return { name: reference, table: await readRoutingTableFile(reference, 'rules') };
  const rules = await readRulesState(context);
  if (reference === 'active') return { name: 'active', table: activeRulesIn(rules).table };
  const found = new Map<string, RoutingTable>();
  // The bundled default decides until a table is published: `history` prints its version too.
  const bundled = rulesVersionOf(defaultRoutingTable);
  if (bundled === reference || bundled.startsWith(reference) || bundled.split('@')[0] === reference)
    found.set(bundled, defaultRoutingTable);
  for (const [rulesVersion, carried] of rules.tables) {
    if (found.has(rulesVersion)) continue;
    if (
      rulesVersion === reference ||
      rulesVersion.startsWith(reference) ||
      rulesVersion.split('@')[0] === reference
    )
      found.set(rulesVersion, tableCarried(rules, carried));
  }
  const exact = found.get(reference);
  if (exact) return { name: reference, table: exact };
  if (found.size === 1) {
    const [[name, table]] = [...found.entries()] as [[string, RoutingTable]];
    return { name, table };
  }
  throw new UsageError(
    found.size === 0
      ? `no published rules version, file or keyword matches "${reference}" (active, default, a file, or a version from \`rules history\`)`
      : `"${reference}" matches several versions: ${[...found.keys()].join(', ')}`,
  );
}
