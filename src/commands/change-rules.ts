/**
 * ChangeRules: every change to the routing rules — publish, promote, rollback, shadow, canary — as
 * one command handler (handleCommand): read the `rules#routing` stream → decide (pure,
 * `decideRulesChange`) → append the next version, re-deciding on a version conflict (another
 * operator got there first).
 *
 * A publication is gated: the what-if gate (src/rules/publish-gate.ts) is the command's read step —
 * the window named in the command is re-decided with the candidate, against the table active in
 * the stream read — and a candidate with violations is refused unless forced, and the record says
 * it was forced.
 */
import { CommandContendedError, RoutingManagerError } from '../errors.ts';
import {
  type GateReport,
  MAX_TABLE_BYTES,
  RULES_RECORD_SCHEMA_VERSION,
  RULES_STREAM,
  type RulesAction,
  type RulesRecord,
  type RulesRecordType,
  type RulesState,
  rulesStateOf,
  type StoredTable,
  storedTable,
} from '../log/rules-records.ts';
import type { RulesLog } from '../ports/rules-log.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { activeRulesOf } from '../rules/active-rules.ts';
import { type PublishGatePorts, type PublishGateRequest, readPublishGate } from '../rules/publish-gate.ts';
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
        /** The what-if gate to pass, read by the command's read step; null: published ungated. */
        readonly gate: PublishGateRequest | null;
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

/**
 * Pure: what the command makes of the rules stream's state (its fold, `rulesStateOf`) and, for a
 * gated publication, the gate's report (what the read step found).
 */
export function decideRulesChange(
  rules: RulesState,
  command: ChangeRules,
  recordedAt: string,
  gateReport: GateReport | null = null,
): RulesChangeDecision {
  const state = {
    active: rules.active,
    shadow: rules.shadow,
    canary: rules.canary,
    previous: rules.previous,
  };
  const { by, why } = command.data;
  const record = (
    type: RulesRecordType,
    action: RulesAction,
    subject: string,
    next: Partial<typeof state>,
    extra: { forced?: boolean; gate?: GateReport | null } = {},
  ): RulesChangeDecision => ({
    outcome: 'append',
    record: {
      type,
      data: {
        action,
        by,
        why,
        subject,
        forced: extra.forced ?? false,
        gate: extra.gate ?? null,
        ...state,
        ...next,
        previous: (next.previous ?? state.previous).slice(-MAX_PREVIOUS_VERSIONS),
      },
      metadata: {
        stream: rules.stream,
        version: rules.version + 1,
        recordedAt,
        schemaVersion: RULES_RECORD_SCHEMA_VERSION,
        jobId: null,
      },
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
      const { force } = command.data;
      const gate = gateReport;
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
      const restored = target === null ? null : (rules.tables.get(target)?.stored ?? null);
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
  /** Where a gated publication's read step reads the window from (required for one). */
  readonly gate?: PublishGatePorts;
  readonly now: () => Date;
  /** How version conflicts are retried (tests pass a `sleep` that does not wait). */
  readonly retry?: ConflictRetry;
}

export type ChangeRulesResult =
  | { readonly outcome: 'appended'; readonly record: RulesRecord }
  | Exclude<RulesChangeDecision, { outcome: 'append' }>
  | { readonly outcome: 'contended'; readonly message: string };

/**
 * The read step of a gated publication: the what-if gate over the window, against the table active
 * in the stream just read (so a retry after a conflict gates against what is active then).
 */
async function gateOf(
  command: ChangeRules,
  rules: RulesState,
  deps: ChangeRulesDependencies,
): Promise<GateReport | null> {
  if (command.type !== 'PublishRules' || command.data.gate === null) return null;
  if (!deps.gate) throw new MissingGatePortsError();
  const active = activeRulesOf(rules, defaultRoutingTable).table;
  return readPublishGate(deps.gate, { active, candidate: command.data.table }, command.data.gate);
}

/** A gated publication was handed no ports to read its window through: a wiring bug. */
export class MissingGatePortsError extends RoutingManagerError {
  constructor() {
    super(
      'gate_unreadable',
      'a gated PublishRules needs the audit index and credit balances to read its window',
    );
    this.name = 'MissingGatePortsError';
  }
}

export async function changeRules(
  command: ChangeRules,
  deps: ChangeRulesDependencies,
): Promise<ChangeRulesResult> {
  try {
    return await handleCommand(
      {
        read: async () => {
          const rules = rulesStateOf(await deps.rules.readStream(RULES_STREAM));
          return { rules, at: deps.now().toISOString(), gate: await gateOf(command, rules, deps) };
        },
        decide: ({ rules, at, gate }) => decideRulesChange(rules, command, at, gate),
        append: async (decision, { rules }): Promise<ChangeRulesResult> => {
          if (decision.outcome !== 'append') return decision;
          await deps.rules.appendToStream(rules.stream, [decision.record], {
            expectedVersion: rules.version,
          });
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
