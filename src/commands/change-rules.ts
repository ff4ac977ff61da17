/**
 * ChangeRules: every change to the routing rules — publish, promote, rollback, shadow, canary — as
 * one command handler (handleCommand): read the `rules#routing` stream → decide (pure,
 * `decideRulesChange`) → append the next version, re-deciding on a version conflict (another
 * operator got there first).
 *
 * A publication is gated: the caller's what-if report (src/rules/publish-gate.ts) is part of the
 * command; a candidate with violations is refused unless forced, and the record says it was forced.
 */
import { CommandContendedError } from '../errors.ts';
import {
  type GateReport,
  MAX_TABLE_BYTES,
  RULES_RECORD_SCHEMA_VERSION,
  RULES_STREAM,
  type RulesAction,
  type RulesRecord,
  type RulesState,
  rulesStateOf,
  type StoredTable,
  storedTable,
} from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { type ConflictRetry, handleCommand } from './handle-command.ts';

interface Author {
  readonly by: string;
  readonly why: string;
}

export type ChangeRules =
  | {
      readonly type: 'PublishRules';
      readonly data: Author & {
        readonly table: RoutingTable;
        readonly gate: GateReport | null;
        readonly force: boolean;
      };
    }
  | { readonly type: 'PromoteCanary'; readonly data: Author }
  | { readonly type: 'RollbackRules'; readonly data: Author }
  | { readonly type: 'ShadowRules'; readonly data: Author & { readonly table: RoutingTable | null } }
  | {
      readonly type: 'CanaryRules';
      readonly data: Author & { readonly table: RoutingTable | null; readonly percent: number };
    };

export type RulesChangeDecision =
  | { readonly outcome: 'append'; readonly record: RulesRecord }
  /** Nothing to do: the rules already are what was asked. */
  | { readonly outcome: 'unchanged'; readonly message: string }
  | { readonly outcome: 'refused'; readonly message: string; readonly gate: GateReport | null };

/** How many earlier active versions a record remembers for `rollback` (bounds the item size). */
export const MAX_PREVIOUS_VERSIONS = 50;

const versionOf = (stored: StoredTable | null): string | null => stored?.rulesVersion ?? null;
const describe = (stored: StoredTable | null): string => stored?.rulesVersion ?? 'the bundled default';

/** Pure: what the command makes of the rules stream's state (its fold, `rulesStateOf`). */
export function decideRulesChange(
  rules: RulesState,
  command: ChangeRules,
  recordedAt: string,
): RulesChangeDecision {
  const state = {
    active: rules.active,
    shadow: rules.shadow,
    canary: rules.canary,
    previous: rules.previous,
  };
  const { by, why } = command.data;
  const record = (
    type: RulesRecord['type'],
    action: RulesAction,
    subject: string,
    next: Partial<typeof state>,
    extra: { forced?: boolean; gate?: GateReport | null } = {},
  ): RulesChangeDecision => ({
    outcome: 'append',
    record: {
      stream: RULES_STREAM,
      version: rules.version + 1,
      schemaVersion: RULES_RECORD_SCHEMA_VERSION,
      type,
      action,
      jobId: null,
      recordedAt,
      by,
      why,
      subject,
      forced: extra.forced ?? false,
      gate: extra.gate ?? null,
      ...state,
      ...next,
      previous: (next.previous ?? state.previous).slice(-MAX_PREVIOUS_VERSIONS),
    },
  });
  const tooLarge = (stored: StoredTable): RulesChangeDecision | null =>
    Buffer.byteLength(stored.table) > MAX_TABLE_BYTES
      ? {
          outcome: 'refused',
          message: `table ${stored.rulesVersion} is ${Buffer.byteLength(stored.table)} bytes; at most ${MAX_TABLE_BYTES} fit a rules record`,
          gate: null,
        }
      : null;
  const activate = (stored: StoredTable) => ({
    active: stored,
    previous: [...state.previous, versionOf(state.active)],
  });

  switch (command.type) {
    case 'PublishRules': {
      const candidate = storedTable(command.data.table);
      const { gate, force } = command.data;
      if (candidate.rulesVersion === versionOf(state.active))
        return { outcome: 'unchanged', message: `${candidate.rulesVersion} is already active` };
      if (state.canary) {
        return {
          outcome: 'refused',
          message: `canary ${state.canary.rulesVersion} is running: promote it or roll it back first`,
          gate: null,
        };
      }
      const refusal = tooLarge(candidate);
      if (refusal) return refusal;
      if (gate && gate.violations.length > 0 && !force) {
        return { outcome: 'refused', message: `the what-if gate refused ${candidate.rulesVersion}`, gate };
      }
      return record('RulesPublished', 'publish', candidate.rulesVersion, activate(candidate), {
        forced: force && gate !== null && gate.violations.length > 0,
        gate,
      });
    }
    case 'PromoteCanary': {
      if (!state.canary) return { outcome: 'refused', message: 'no canary is running', gate: null };
      const promoted = { rulesVersion: state.canary.rulesVersion, table: state.canary.table };
      return record('RulesPublished', 'promote', promoted.rulesVersion, {
        ...activate(promoted),
        canary: null,
      });
    }
    case 'RollbackRules': {
      if (state.canary) {
        return record('RulesCanaryChanged', 'canary-stop', state.canary.rulesVersion, { canary: null });
      }
      if (state.previous.length === 0)
        return {
          outcome: 'refused',
          message: `nothing to roll back to: ${describe(state.active)} is the first`,
          gate: null,
        };
      const target = state.previous.at(-1) ?? null;
      const restored = target === null ? null : (rules.tables.get(target) ?? null);
      if (target !== null && restored === null)
        return {
          outcome: 'refused',
          message: `the table of ${target} is no longer in the history`,
          gate: null,
        };
      return record('RulesPublished', 'rollback', target ?? describe(null), {
        active: restored,
        previous: state.previous.slice(0, -1),
      });
    }
    case 'ShadowRules': {
      const { table } = command.data;
      if (table === null) {
        if (!state.shadow) return { outcome: 'unchanged', message: 'no shadow is running' };
        return record('RulesShadowChanged', 'shadow-stop', state.shadow.rulesVersion, { shadow: null });
      }
      const candidate = storedTable(table);
      if (candidate.rulesVersion === versionOf(state.shadow))
        return { outcome: 'unchanged', message: `${candidate.rulesVersion} already runs in shadow` };
      return (
        tooLarge(candidate) ??
        record('RulesShadowChanged', 'shadow', candidate.rulesVersion, { shadow: candidate })
      );
    }
    case 'CanaryRules': {
      const { table, percent } = command.data;
      if (table === null) {
        if (!state.canary) return { outcome: 'unchanged', message: 'no canary is running' };
        return record('RulesCanaryChanged', 'canary-stop', state.canary.rulesVersion, { canary: null });
      }
      const candidate = storedTable(table);
      if (candidate.rulesVersion === versionOf(state.active))
        return { outcome: 'refused', message: `${candidate.rulesVersion} is already active`, gate: null };
      if (state.canary && state.canary.rulesVersion !== candidate.rulesVersion) {
        return {
          outcome: 'refused',
          message: `canary ${state.canary.rulesVersion} is running: promote it or roll it back first`,
          gate: null,
        };
      }
      if (state.canary?.percent === percent)
        return { outcome: 'unchanged', message: `${candidate.rulesVersion} already runs on ${percent}%` };
      return (
        tooLarge(candidate) ??
        record('RulesCanaryChanged', 'canary', candidate.rulesVersion, { canary: { ...candidate, percent } })
      );
    }
  }
}

export interface ChangeRulesDependencies {
  readonly rules: RulesLog;
  readonly now: () => Date;
  /** How version conflicts are retried (tests pass a `sleep` that does not wait). */
  readonly retry?: ConflictRetry;
}

export type ChangeRulesResult =
  | { readonly outcome: 'appended'; readonly record: RulesRecord }
  | Exclude<RulesChangeDecision, { outcome: 'append' }>
  | { readonly outcome: 'contended'; readonly message: string };

export async function changeRules(
  command: ChangeRules,
  deps: ChangeRulesDependencies,
): Promise<ChangeRulesResult> {
  try {
    return await handleCommand(
      {
        read: async () => ({ rules: rulesStateOf(await deps.rules.readAll()), at: deps.now().toISOString() }),
        decide: ({ rules, at }) => decideRulesChange(rules, command, at),
        append: async (decision): Promise<ChangeRulesResult> => {
          if (decision.outcome !== 'append') return decision;
          const expectedVersion = decision.record.version - 1;
          await deps.rules.appendToStream([decision.record], { expectedVersion });
          return { outcome: 'appended', record: decision.record };
        },
      },
      deps.retry,
    );
  } catch (error) {
    if (!(error instanceof CommandContendedError)) throw error;
    return {
      outcome: 'contended',
      message: `the rules changed under this command ${error.attempts} times; run it again`,
    };
  }
}
