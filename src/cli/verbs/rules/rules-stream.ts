/**
 * What the `rules` verbs read from the `rules#routing` stream: its history, the table active now,
 * and a table named on the command line (`active`, `default`, a file, or a published version).
 */
import { existsSync } from 'node:fs';
import { type RulesRecord, tableOf } from '../../../log/rules-records.ts';
import { defaultRoutingTable } from '../../../routing/default-table.ts';
import { type RoutingTable, rulesVersionOf } from '../../../routing/routing-table.ts';
import { activeRulesOf } from '../../../rules/active-rules.ts';
import { type CliContext, UsageError } from '../../cli-context.ts';
import { readRoutingTableFile } from '../../rules-files.ts';

export async function rulesHistory(context: CliContext): Promise<RulesRecord[]> {
  return context.onTable(context.tables.log, () => context.ports().rules.readAll());
}

export const activeTableOf = (history: readonly RulesRecord[]): RoutingTable =>
  activeRulesOf(history.at(-1) ?? null, defaultRoutingTable).table;

/** `active`, `default`, a file, or a published content id (a unique prefix or label will do). */
export async function resolveTable(
  context: CliContext,
  reference: string,
): Promise<{ name: string; table: RoutingTable }> {
  if (reference === 'default') return { name: 'default', table: defaultRoutingTable };
  if (existsSync(reference))
    return { name: reference, table: await readRoutingTableFile(reference, 'rules') };
  const history = await rulesHistory(context);
  if (reference === 'active') return { name: 'active', table: activeTableOf(history) };
  const found = new Map<string, RoutingTable>();
  // The bundled default decides until a table is published: `history` prints its version too.
  const bundled = rulesVersionOf(defaultRoutingTable);
  if (bundled === reference || bundled.startsWith(reference) || bundled.split('@')[0] === reference)
    found.set(bundled, defaultRoutingTable);
  for (const record of history) {
    for (const stored of [record.active, record.shadow, record.canary]) {
      if (!stored || found.has(stored.rulesVersion)) continue;
      const { rulesVersion } = stored;
      if (
        rulesVersion === reference ||
        rulesVersion.startsWith(reference) ||
        rulesVersion.split('@')[0] === reference
      )
        found.set(rulesVersion, tableOf(stored, record));
    }
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
