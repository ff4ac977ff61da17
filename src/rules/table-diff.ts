/**
 * `rules diff A B`: what differs between two routing tables — providers and models, and rules by id
 * (added, removed, changed, moved). Pure.
 */
import stringify from 'safe-stable-stringify';
import type { RoutingTable } from '../routing/routing-table.ts';

export interface TableChange {
  readonly kind: 'added' | 'removed' | 'changed' | 'moved';
  /** `provider fal`, `rule auto-short-720p-fal`, `version`. */
  readonly what: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

const same = (a: unknown, b: unknown): boolean => stringify(a) === stringify(b);

export function diffTables(before: RoutingTable, after: RoutingTable): TableChange[] {
  const changes: TableChange[] = [];
  if (before.version !== after.version)
    changes.push({ kind: 'changed', what: 'version', before: before.version, after: after.version });
  const providers = [...new Set([...Object.keys(before.providers), ...Object.keys(after.providers)])].sort();
  for (const provider of providers) {
    const a = before.providers[provider];
    const b = after.providers[provider];
    if (!a) changes.push({ kind: 'added', what: `provider ${provider}`, after: b });
    else if (!b) changes.push({ kind: 'removed', what: `provider ${provider}`, before: a });
    else if (!same(a, b))
      changes.push({ kind: 'changed', what: `provider ${provider}`, before: a, after: b });
  }
  const beforeIds = before.rules.map((rule) => rule.id);
  const afterIds = after.rules.map((rule) => rule.id);
  for (const [index, rule] of before.rules.entries()) {
    const now = after.rules.find((candidate) => candidate.id === rule.id);
    if (!now) {
      changes.push({ kind: 'removed', what: `rule ${rule.id}`, before: rule });
      continue;
    }
    if (!same(rule, now))
      changes.push({ kind: 'changed', what: `rule ${rule.id}`, before: rule, after: now });
    const kept = (ids: string[]) => ids.filter((id) => beforeIds.includes(id) && afterIds.includes(id));
    const from = kept(beforeIds).indexOf(rule.id);
    const to = kept(afterIds).indexOf(rule.id);
    if (from !== to)
      changes.push({
        kind: 'moved',
        what: `rule ${rule.id}`,
        before: index,
        after: afterIds.indexOf(rule.id),
      });
  }
  for (const rule of after.rules) {
    if (!beforeIds.includes(rule.id)) changes.push({ kind: 'added', what: `rule ${rule.id}`, after: rule });
  }
  return changes;
}
