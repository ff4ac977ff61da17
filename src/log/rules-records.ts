/**
 * Routing rules as records. Every change to the rules the router uses — a publication, a rollback,
 * a shadow or canary candidate — is an immutable record in the routing log's `rules#routing`
 * stream (versions 1, 2, …; appended with the expected version, so two operators never both win).
 *
 * Each record carries the complete resulting state (the active table, the shadow and canary
 * candidates): the router reads one item — the latest — to know what to use, and a record alone
 * reproduces the rules of any decision that names its `rulesVersion`. No record at all means the
 * bundled default table (a fresh stack starts with it).
 *
 * Pure: building and folding records does no I/O; time and the author are passed in.
 */

import { RoutingManagerError } from '../errors.ts';
import type { CostComparison } from '../routing/cost.ts';
import {
  canonicalTableJson,
  loadRoutingTable,
  type RoutingTable,
  rulesVersionOf,
} from '../routing/routing-table.ts';

import { isRulesStream, RULES_STREAM } from './rules-stream.ts';

export { isRulesStream, RULES_STREAM };
export const RULES_RECORD_SCHEMA_VERSION = 1;
/**
 * Largest canonical table accepted: a record holds up to three tables (active, shadow, canary) and
 * must stay under DynamoDB's 400 KB item limit with room for the gate report.
 */
export const MAX_TABLE_BYTES = 96 * 1024;

/** A published table: its content id and its canonical JSON. */
export interface StoredTable {
  readonly rulesVersion: string;
  readonly table: string;
}

export interface CanaryTable extends StoredTable {
  /** Share of jobs (0 < percent ≤ 100, by a stable hash of the jobId) decided by the candidate. */
  readonly percent: number;
}

export type RulesAction =
  | 'publish'
  | 'promote'
  | 'rollback'
  | 'shadow'
  | 'shadow-stop'
  | 'canary'
  | 'canary-stop';

/** What the what-if gate found when a candidate was published (see src/rules/publish-gate.ts). */
export interface GateReport {
  readonly since: string;
  readonly until: string;
  readonly scanned: number;
  readonly changed: number;
  readonly explicitProviderChanges: number;
  readonly rejectionRate: { readonly before: number; readonly after: number };
  readonly cost: CostComparison;
  readonly transitions: readonly { readonly from: string; readonly to: string; readonly count: number }[];
  /** Thresholds the candidate exceeded; empty when it passed. */
  readonly violations: readonly string[];
}

export interface RulesRecord {
  readonly stream: string;
  readonly version: number;
  readonly schemaVersion: number;
  readonly type: 'RulesPublished' | 'RulesShadowChanged' | 'RulesCanaryChanged';
  readonly action: RulesAction;
  readonly jobId: null;
  readonly recordedAt: string;
  readonly by: string;
  readonly why: string;
  /** The content id this record is about (published, restored, or the candidate). */
  readonly subject: string;
  /** True when the operator overrode a failed what-if gate. */
  readonly forced: boolean;
  readonly gate: GateReport | null;
  /** The state after this record. `active: null` is the bundled default table. */
  readonly active: StoredTable | null;
  readonly shadow: StoredTable | null;
  readonly canary: CanaryTable | null;
  /** Content ids of the earlier active versions, most recent last (what `rollback` restores). */
  readonly previous: readonly (string | null)[];
}

/**
 * The rules stream's fold (as `evolveJob` is the job stream's): each record carries the whole state
 * after it, so the state is the latest record's — plus every table the stream ever stored, by
 * content id, which is what a rollback restores from.
 */
export interface RulesState {
  /** The last record's version (0: nothing published: the bundled default decides). */
  readonly version: number;
  readonly active: StoredTable | null;
  readonly shadow: StoredTable | null;
  readonly canary: CanaryTable | null;
  readonly previous: readonly (string | null)[];
  /** Every table a record carried (active, shadow or canary), by content id. */
  readonly tables: ReadonlyMap<string, StoredTable>;
}

export const initialRulesState: RulesState = {
  version: 0,
  active: null,
  shadow: null,
  canary: null,
  previous: [],
  tables: new Map(),
};

export function evolveRules(state: RulesState, record: RulesRecord): RulesState {
  const tables = new Map(state.tables);
  for (const stored of [record.active, record.shadow, record.canary]) {
    if (stored) tables.set(stored.rulesVersion, { rulesVersion: stored.rulesVersion, table: stored.table });
  }
  const { version, active, shadow, canary, previous } = record;
  return { version, active, shadow, canary, previous, tables };
}

/** The state of the rules stream as read (records in version order). */
export const rulesStateOf = (records: readonly RulesRecord[]): RulesState =>
  records.reduce(evolveRules, initialRulesState);

export const storedTable = (table: RoutingTable): StoredTable => ({
  rulesVersion: rulesVersionOf(table),
  table: canonicalTableJson(table),
});

export class CorruptRulesRecordError extends RoutingManagerError {
  readonly stream: string;
  readonly version: number;
  constructor(message: string, record: { stream?: unknown; version?: unknown }, options?: ErrorOptions) {
    super('corrupt_rules_record', message, options);
    this.name = 'CorruptRulesRecordError';
    this.stream = String(record.stream);
    this.version = Number(record.version);
  }
}

/** Parses and re-validates a stored table; its content must still hash to its recorded id. */
export function tableOf(stored: StoredTable, record: RulesRecord): RoutingTable {
  let table: RoutingTable;
  try {
    table = loadRoutingTable(JSON.parse(stored.table));
  } catch (error) {
    throw new CorruptRulesRecordError(
      `rules record ${record.version}: table ${stored.rulesVersion} is unreadable: ${(error as Error).message}`,
      record,
      { cause: error },
    );
  }
  if (rulesVersionOf(table) !== stored.rulesVersion) {
    throw new CorruptRulesRecordError(
      `rules record ${record.version}: table content does not match its id ${stored.rulesVersion}`,
      record,
    );
  }
  return table;
}

/** Reads a stored item as a rules record of the current schema, or throws a typed error. */
export function rulesRecordFromItem(item: Record<string, unknown>): RulesRecord {
  const types = ['RulesPublished', 'RulesShadowChanged', 'RulesCanaryChanged'];
  if (!isRulesStream(item.stream) || typeof item.type !== 'string' || !types.includes(item.type)) {
    throw new CorruptRulesRecordError('not a rules record', item);
  }
  if (item.schemaVersion !== RULES_RECORD_SCHEMA_VERSION) {
    throw new CorruptRulesRecordError(`unsupported rules schemaVersion ${String(item.schemaVersion)}`, item);
  }
  return item as unknown as RulesRecord;
}
