/**
 * `rules diff A B`: what differs between two routing tables — providers and models, and rules by id
 * (added, removed, moved, and for a changed one each field that changed). Pure.
 */
import stringify from 'safe-stable-stringify';
import type { RoutingTable } from '../routing/routing-table.ts';

export interface TableChange {
  readonly kind: 'added' | 'removed' | 'changed' | 'moved';
  /** `provider fal`, `rule auto-short-720p-fal`, `version`. */
  readonly what: string;
  /** A changed provider or rule: the field that changed (`route.provider`, `models.wan-i2v.pricePerSecond`). */
  readonly field?: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

const same = (a: unknown, b: unknown): boolean => stringify(a) === stringify(b);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The fields that differ between two versions of a provider or rule, by dotted path; lists (e.g.
 * `resolutions`, `fallbacks`) are compared whole. Walked with a queue, not recursion: the table's
 * schema bounds the depth, but the walk does not rely on it.
 */
function changedFields(what: string, before: unknown, after: unknown): TableChange[] {
  const changes: TableChange[] = [];
  const pending: { path: string[]; a: unknown; b: unknown }[] = [{ path: [], a: before, b: after }];
  while (pending.length > 0) {
    const { path, a, b } = pending.shift() as { path: string[]; a: unknown; b: unknown };
    if (same(a, b)) continue;
    if (isObject(a) && isObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
        pending.push({ path: [...path, key], a: a[key], b: b[key] });
      continue;
    }
    changes.push({
      kind: 'changed',
      what,
      field: path.join('.'),
      ...(a === undefined ? {} : { before: a }),
      ...(b === undefined ? {} : { after: b }),
    });
  }
  return changes;
}

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
    else changes.push(...changedFields(`provider ${provider}`, a, b));
  }
  const beforeIds = before.rules.map((rule) => rule.id);
  const afterIds = after.rules.map((rule) => rule.id);
  for (const [index, rule] of before.rules.entries()) {
    const now = after.rules.find((candidate) => candidate.id === rule.id);
    if (!now) {
      changes.push({ kind: 'removed', what: `rule ${rule.id}`, before: rule });
      continue;
    }
    changes.push(...changedFields(`rule ${rule.id}`, rule, now));
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
