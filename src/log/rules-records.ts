/**
 * Routing rules as records. Every change to the rules the router uses — a publication, a rollback,
 * a shadow or canary candidate — is an immutable record in the routing log's `rules#routing`
 * stream (versions 1, 2, …; appended with the expected version, so two operators never both win).
 *
 * A record is `{ type, data, metadata }` like every record of the log (src/log/routing-records.ts
 * LogRecord): `data` is the change and the complete state after it (the active table, the shadow and
 * canary candidates), `metadata` where it stands (stream, version, recordedAt, schemaVersion). The
 * router reads one item — the latest — to know what to use, and a record alone reproduces the rules
 * of any decision that names its `rulesVersion`. No record at all means the bundled default table
 * (a fresh stack starts with it).
 *
 * Stored, a record is the one-level item every stream of the log has (src/log/stored-records.ts
 * `layoutOf`): metadata and data side by side under `type`, as every rules item was written. Reading
 * checks the item against the schema of its `schemaVersion` and upcasts it into the current record
 * shape; an item is never rewritten.
 *
 * Pure: building and folding records does no I/O; time and the author are passed in.
 */

import * as z from 'zod/mini';
import { RoutingManagerError } from '../errors.ts';
// English messages for zod/mini (src/intake/schema.ts).
import '../intake/schema.ts';
import type { CostComparison } from '../routing/cost.ts';
import {
  canonicalTableJson,
  loadRoutingTable,
  type RoutingTable,
  rulesVersionOf,
} from '../routing/routing-table.ts';
import type { LogRecord, RecordMetadata, StreamPosition } from './routing-records.ts';
import { isRulesStream, RULES_STREAM } from './rules-stream.ts';
import { describeValue, layoutOf, METADATA_FIELDS, splitLayout } from './stored-records.ts';

export { isRulesStream, RULES_STREAM };
/** The schema version rules records are written with (1: the only one so far; see rulesRecordFromItem). */
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

export const RULES_ACTIONS = [
  'publish',
  'promote',
  'rollback',
  'shadow',
  'shadow-stop',
  'canary',
  'canary-stop',
] as const;
export type RulesAction = (typeof RULES_ACTIONS)[number];

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

export const RULES_RECORD_TYPES = ['RulesPublished', 'RulesShadowChanged', 'RulesCanaryChanged'] as const;
export type RulesRecordType = (typeof RULES_RECORD_TYPES)[number];

/** A change of the rules, and the state it leaves. */
export interface RulesChangeData {
  readonly action: RulesAction;
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

/** A rules record's metadata: a stream of its own (`rules#routing`), about no job. */
export interface RulesRecordMetadata extends RecordMetadata {
  readonly jobId: null;
}

export type RulesRecord = LogRecord<RulesRecordType, RulesChangeData, RulesRecordMetadata>;

/** A table the stream stored, and the version of the latest record that carried it. */
export interface CarriedTable {
  readonly stored: StoredTable;
  readonly version: number;
}

/**
 * The rules stream's fold (as `evolveJob` is the job stream's): each record carries the whole state
 * after it, so the state is the latest record's — plus what only the whole stream knows: every
 * table it ever stored, by content id (what a rollback restores from, what a version named on the
 * command line resolves to), and every table that ever ran in shadow.
 */
export interface RulesState {
  readonly stream: string;
  /** The last record's version (0: nothing published: the bundled default decides). */
  readonly version: number;
  readonly active: StoredTable | null;
  readonly shadow: StoredTable | null;
  readonly canary: CanaryTable | null;
  readonly previous: readonly (string | null)[];
  /** Every table a record carried (active, shadow or canary), by content id, in the order first stored. */
  readonly tables: ReadonlyMap<string, CarriedTable>;
  /** The content ids of every table that ran in shadow, in the order first run. */
  readonly shadowed: ReadonlySet<string>;
  /**
   * The latest change of the active table from one record to the next: the version it replaced
   * (`from`, null: the bundled default), the one it made active (`to`) and the record that did it.
   * null until a record changes what an earlier record left active (a first record has none before
   * it). A rollback is such a change too: its `from` is the version rolled back — unlike `previous`,
   * which is what a rollback would restore.
   */
  readonly activeChange: ActiveChange | null;
}

/** A change of the active table between two records of the rules stream. */
export interface ActiveChange {
  readonly from: string | null;
  readonly to: string | null;
  /** The record that made it. */
  readonly version: number;
}

export const initialRulesState: RulesState = {
  stream: RULES_STREAM,
  version: 0,
  active: null,
  shadow: null,
  canary: null,
  previous: [],
  tables: new Map(),
  shadowed: new Set(),
  activeChange: null,
};

export function evolveRules(state: RulesState, record: RulesRecord): RulesState {
  const { stream, version } = record.metadata;
  const { active, shadow, canary, previous } = record.data;
  const tables = new Map(state.tables);
  for (const carried of [active, shadow, canary]) {
    if (carried) {
      const stored = { rulesVersion: carried.rulesVersion, table: carried.table };
      tables.set(carried.rulesVersion, { stored, version });
    }
  }
  const shadowed = shadow ? new Set(state.shadowed).add(shadow.rulesVersion) : state.shadowed;
  const from = state.active?.rulesVersion ?? null;
  const to = active?.rulesVersion ?? null;
  const activeChange = state.version > 0 && from !== to ? { from, to, version } : state.activeChange;
  return { stream, version, active, shadow, canary, previous, tables, shadowed, activeChange };
}

/**
 * The state of the rules stream as read (records in version order). The latest record alone folds
 * into the state in force (active, shadow, canary, previous): what the router reads.
 */
export const rulesStateOf = (
  records: readonly RulesRecord[],
  initial: RulesState = initialRulesState,
): RulesState => records.reduce(evolveRules, initial);

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
    this.stream = typeof record.stream === 'string' ? record.stream : describeValue(record.stream);
    this.version = typeof record.version === 'number' ? record.version : Number.NaN;
  }
}

/**
 * Parses and re-validates a stored table; its content must still hash to its recorded id. `at`: the
 * record that carried it (named in the error).
 */
export function tableOf(stored: StoredTable, at: StreamPosition): RoutingTable {
  let table: RoutingTable;
  try {
    table = loadRoutingTable(JSON.parse(stored.table));
  } catch (error) {
    throw new CorruptRulesRecordError(
      `rules record ${at.version}: table ${stored.rulesVersion} is unreadable: ${(error as Error).message}`,
      at,
      { cause: error },
    );
  }
  if (rulesVersionOf(table) !== stored.rulesVersion) {
    throw new CorruptRulesRecordError(
      `rules record ${at.version}: table content does not match its id ${stored.rulesVersion}`,
      at,
    );
  }
  return table;
}

/**
 * The item stored for a record: the one-level layout of every stream of the log (metadata and data
 * side by side under `type`). It is also the shape `rules history --json` and a rules change's
 * `--json` print a record in, as they always have.
 */
export const rulesItemOf = (record: RulesRecord): Record<string, unknown> => layoutOf(record);

// The schema of a stored item. Nested maps are checked for what readers rely on and otherwise kept
// as stored (looseObject): reading never drops what an item holds. The gate report is what the gate
// found, shown by the CLI and never decided on, so it is only required to be a map.
const storedTableSchema = z.looseObject({ rulesVersion: z.string(), table: z.string() });
const canaryTableSchema = z.looseObject({
  rulesVersion: z.string(),
  table: z.string(),
  percent: z.number().check(z.positive(), z.lte(100)),
});

/** schemaVersion 1: every rules item written so far. Its layout is the current record's. */
const rulesItemV1 = z.object({
  stream: z.string(),
  version: z.int().check(z.positive()),
  recordedAt: z.string(),
  schemaVersion: z.literal(1),
  jobId: z.null(),
  type: z.enum(RULES_RECORD_TYPES),
  action: z.enum(RULES_ACTIONS),
  by: z.string(),
  why: z.string(),
  subject: z.string(),
  forced: z.boolean(),
  gate: z.nullable(z.looseObject({})),
  active: z.nullable(storedTableSchema),
  shadow: z.nullable(storedTableSchema),
  canary: z.nullable(canaryTableSchema),
  previous: z.array(z.nullable(z.string())),
});

/**
 * The schema of each readable schema version, whose items read into the current layout. A later
 * version adds its schema here, and an upcast of the items before it to its layout.
 */
const ITEM_SCHEMAS: ReadonlyMap<unknown, z.ZodMiniType> = new Map([[1, rulesItemV1]]);

/**
 * Reads a stored item as a rules record of the current shape (`{ type, data, metadata }`), or throws
 * CorruptRulesRecordError naming what is wrong (never a value of the item beyond a short token).
 */
export function rulesRecordFromItem(item: Record<string, unknown>): RulesRecord {
  if (!isRulesStream(item.stream) || !(RULES_RECORD_TYPES as readonly unknown[]).includes(item.type)) {
    throw new CorruptRulesRecordError('not a rules record', item);
  }
  const schema = ITEM_SCHEMAS.get(item.schemaVersion);
  if (!schema) {
    throw new CorruptRulesRecordError(
      `unsupported rules schemaVersion ${describeValue(item.schemaVersion)}`,
      item,
    );
  }
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const field = issue?.path.map(String).join('.') || 'item';
    throw new CorruptRulesRecordError(
      `rules record ${describeValue(item.version)}: ${field}: ${issue?.message ?? 'invalid'}`,
      item,
    );
  }
  return splitLayout(parsed.data as Record<string, unknown>, METADATA_FIELDS) as unknown as RulesRecord;
}
