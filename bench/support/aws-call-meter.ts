/**
 * Counts every AWS SDK command a piece of code sends, by service and operation, and the DynamoDB
 * capacity it consumes — including calls made by clients created deep inside the handlers.
 *
 * How: every v3 client (DynamoDBClient, the lib-dynamodb DocumentClient, SQSClient, …) inherits
 * `send` from the one `Client` class of `@smithy/core/client`; patching that prototype once catches
 * every client, whenever it was constructed. Attribution uses AsyncLocalStorage: only calls made
 * inside `meter.measure(fn)` are counted, so the benchmark's own provisioning, the stream poller's
 * GetRecords (free in AWS: Lambda's event source mapping reads the stream) and read-backs are not.
 *
 * Capacity: DynamoDB Local reports ConsumedCapacity only when asked, and the production code does
 * not ask, so inside a measured scope every DynamoDB command gets `ReturnConsumedCapacity: 'TOTAL'`
 * (bench-only; it changes no behaviour) and the reported units are summed. A conditional write that
 * fails returns no ConsumedCapacity; AWS still bills it (≥ 1 WCU, by the size of the existing item),
 * so it is estimated from the returned ALL_OLD item and flagged as an estimate.
 *
 * PartiQL BatchExecuteStatement: each statement names its table in its text; AWS reports its
 * capacity, DynamoDB Local does not, so then every statement is estimated: an INSERT at its item's
 * size (⌈names + values / 1 KB⌉: the retained content items), any other at 1 unit (the Jobs updates
 * are far below 1 KB); a statement that is refused (a condition, a duplicate) is billed too.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

interface SmithyCommand {
  input: Record<string, unknown>;
  constructor: { name: string };
}
interface SmithyClient {
  constructor: { name: string };
}
type Send = (this: SmithyClient, command: SmithyCommand, ...rest: unknown[]) => unknown;

const DOCUMENT_OPERATIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactWrite: 'TransactWriteItems',
  TransactGet: 'TransactGetItems',
};

const KIB = 1024;
const SQS_BILLING_CHUNK = 64 * KIB;

export interface MeterSnapshot {
  /** `Service.Operation` → calls. */
  readonly calls: Record<string, number>;
  readonly totalCalls: number;
  /** Capacity units DynamoDB reported (table + indexes). */
  readonly reportedWcu: number;
  readonly reportedRcu: number;
  /** Units billed for failed conditional writes, estimated (DynamoDB reports none for them). */
  readonly estimatedWcu: number;
  /** Keys read by GetItem / BatchGetItem: AWS bills ≥ 1 RRU per strongly consistent key read, found or not. */
  readonly readKeys: number;
  /** SQS billed requests: each 64 KiB chunk of a (batch) request is one request. */
  readonly sqsBilledRequests: number;
  /** EventBridge billed events: each PutEvents entry (≤ 64 KiB) is one event. */
  readonly eventBridgeEvents: number;
  /**
   * DynamoDB by table family (the name without its `-<stage>`, e.g. `RoutingContent`): calls, units
   * reported and keys read — so the cost of one concern (user content protection) reads on its own.
   */
  readonly tables: Record<string, TableUsage>;
}

export interface TableUsage {
  readonly calls: number;
  readonly wcu: number;
  readonly rcu: number;
  readonly readKeys: number;
}

/** `RoutingContent-t1a2` → `RoutingContent`. */
export const tableFamily = (tableName: string): string => tableName.replace(/-[^-]+$/, '');

export class AwsCallMeter {
  readonly #calls = new Map<string, number>();
  #reportedWcu = 0;
  #reportedRcu = 0;
  #estimatedWcu = 0;
  #sqsBilledRequests = 0;
  #eventBridgeEvents = 0;
  #readKeys = 0;
  readonly #tables = new Map<string, { calls: number; wcu: number; rcu: number; readKeys: number }>();

  #table(name: string) {
    const family = tableFamily(name);
    const usage = this.#tables.get(family) ?? { calls: 0, wcu: 0, rcu: 0, readKeys: 0 };
    this.#tables.set(family, usage);
    return usage;
  }

  /** Runs `fn` with every AWS call it makes (synchronously or asynchronously) counted here. */
  measure<T>(fn: () => Promise<T>): Promise<T> {
    return scope.run(this, fn);
  }

  snapshot(): MeterSnapshot {
    const calls = Object.fromEntries([...this.#calls].sort(([a], [b]) => a.localeCompare(b)));
    return {
      calls,
      totalCalls: [...this.#calls.values()].reduce((a, b) => a + b, 0),
      reportedWcu: round(this.#reportedWcu),
      reportedRcu: round(this.#reportedRcu),
      estimatedWcu: round(this.#estimatedWcu),
      readKeys: this.#readKeys,
      sqsBilledRequests: this.#sqsBilledRequests,
      eventBridgeEvents: this.#eventBridgeEvents,
      tables: Object.fromEntries(
        [...this.#tables]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([family, u]) => [family, { ...u, wcu: round(u.wcu), rcu: round(u.rcu) }]),
      ),
    };
  }

  /** @internal called by the patched `send`. */
  record(service: string, operation: string, input: Record<string, unknown>): void {
    const key = `${service}.${operation}`;
    this.#calls.set(key, (this.#calls.get(key) ?? 0) + 1);
    if (service === 'DynamoDB') {
      const tables =
        typeof input.TableName === 'string'
          ? [input.TableName]
          : operation === 'BatchExecuteStatement'
            ? [...new Set(statementTables(input))]
            : Object.keys(input.RequestItems ?? {});
      for (const table of tables) this.#table(table).calls += 1;
      if (operation === 'GetItem') {
        this.#readKeys += 1;
        this.#table(input.TableName as string).readKeys += 1;
      }
    }
    if (service === 'DynamoDB' && operation === 'BatchGetItem') {
      for (const [table, request] of Object.entries(
        (input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>,
      )) {
        this.#readKeys += request.Keys?.length ?? 0;
        this.#table(table).readKeys += request.Keys?.length ?? 0;
      }
    }
    if (service === 'SQS') this.#sqsBilledRequests += sqsBilledRequests(operation, input);
    if (service === 'EventBridge' && operation === 'PutEvents') {
      this.#eventBridgeEvents += (input.Entries as unknown[] | undefined)?.length ?? 0;
    }
  }

  /** @internal */
  capacity(consumed: unknown): void {
    for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      const c = entry as {
        TableName?: string;
        CapacityUnits?: number;
        WriteCapacityUnits?: number;
        ReadCapacityUnits?: number;
      };
      const write = c.WriteCapacityUnits ?? 0;
      const read = c.ReadCapacityUnits ?? 0;
      // DynamoDB Local fills CapacityUnits only for some operations; split it by what the call was.
      const unsplit = write === 0 && read === 0 && c.CapacityUnits ? c.CapacityUnits : 0;
      this.#reportedWcu += write + unsplit;
      this.#reportedRcu += read;
      if (c.TableName) {
        const usage = this.#table(c.TableName);
        usage.wcu += write + unsplit;
        usage.rcu += read;
      }
    }
  }

  /** @internal a batch of PartiQL statements DynamoDB reported no capacity for: by item size. */
  estimateStatements(input: Record<string, unknown>): void {
    const statements = (input.Statements ?? []) as Statement[];
    for (const statement of statements) {
      const table = statementTables({ Statements: [statement] })[0];
      if (!table) continue;
      const units = Math.max(1, Math.ceil(insertedBytes(statement) / KIB));
      this.#estimatedWcu += units;
      this.#table(table).wcu += units;
    }
  }

  /** @internal */
  estimateFailedWrite(existingItem: unknown): void {
    const bytes = existingItem ? itemSize(existingItem as Record<string, AttributeValue>) : 0;
    this.#estimatedWcu += Math.max(1, Math.ceil(bytes / KIB));
  }
}

type AttributeValue = Partial<{
  S: string;
  N: string;
  B: Uint8Array;
  BOOL: boolean;
  NULL: boolean;
  M: Record<string, AttributeValue>;
  L: AttributeValue[];
  SS: string[];
  NS: string[];
}>;

/** DynamoDB's item size: attribute names plus values (docs: "Item sizes and formats"). */
function itemSize(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueSize(value);
  return bytes;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[-.]/g, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M) return 3 + itemSize(value.M);
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.SS) return value.SS.reduce((sum, v) => sum + Buffer.byteLength(v), 0);
  if (value.NS) return value.NS.reduce((sum, v) => sum + v.length / 2 + 1, 0);
  return 0;
}

interface Statement {
  readonly Statement?: string;
  readonly Parameters?: readonly unknown[];
}

/** An INSERT's item size: its attribute names (`'name': ?`) and its parameters' values; 0 for others. */
function insertedBytes({ Statement: text = '', Parameters = [] }: Statement): number {
  if (!/^\s*INSERT\b/i.test(text)) return 0;
  const names = [...text.matchAll(/'([^']+)'\s*:/g)].reduce(
    (sum, [, name]) => sum + Buffer.byteLength(name ?? ''),
    0,
  );
  return names + Parameters.reduce<number>((sum, value) => sum + nativeSize(value), 0);
}

/** A JavaScript value's size as DynamoDB counts the attribute it is marshalled to (approximately). */
function nativeSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace('.', '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce<number>((sum, v) => sum + nativeSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + 1 + nativeSize(v), 0);
  if (value && typeof value === 'object')
    return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + nativeSize(v), 0);
  return 1;
}

/** The table of each statement of a BatchExecuteStatement (`UPDATE "T"`, `INSERT INTO "T"`, …). */
function statementTables(input: Record<string, unknown>): string[] {
  const statements = (input.Statements ?? []) as { Statement?: string }[];
  return statements.flatMap(({ Statement }) => {
    const table = /(?:UPDATE|INTO|FROM)\s+"([^"]+)"/i.exec(Statement ?? '')?.[1];
    return table ? [table] : [];
  });
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function sqsBilledRequests(operation: string, input: Record<string, unknown>): number {
  const entries =
    operation === 'SendMessageBatch' ? ((input.Entries as Record<string, unknown>[]) ?? []) : [input];
  if (operation !== 'SendMessage' && operation !== 'SendMessageBatch') return 1;
  const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(JSON.stringify(entry)), 0);
  return Math.max(1, Math.ceil(bytes / SQS_BILLING_CHUNK));
}

const scope = new AsyncLocalStorage<AwsCallMeter>();
let installed = false;

function serviceOf(client: SmithyClient): string {
  return client.constructor.name.replace(/(Document)?Client$/, '');
}

function operationOf(command: SmithyCommand): string {
  const name = command.constructor.name.replace(/Command$/, '');
  return DOCUMENT_OPERATIONS[name] ?? name;
}

/** Patches `Client.prototype.send` of the SDK's one smithy core (idempotent). */
export function installAwsCallMeter(): void {
  if (installed) return;
  installed = true;
  // Resolve smithy core from the SDK client's own location: the copy the clients really use.
  const sdkRequire = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb'));
  const { Client } = sdkRequire('@smithy/core/client') as { Client: { prototype: { send: Send } } };
  const original = Client.prototype.send;
  Client.prototype.send = function meteredSend(
    this: SmithyClient,
    command: SmithyCommand,
    ...rest: unknown[]
  ) {
    const meter = scope.getStore();
    if (!meter) return original.call(this, command, ...rest);
    const service = serviceOf(this);
    const operation = operationOf(command);
    const isDynamoDb = service === 'DynamoDB';
    if (isDynamoDb && command.input.ReturnConsumedCapacity === undefined) {
      command.input.ReturnConsumedCapacity = 'TOTAL';
    }
    meter.record(service, operation, command.input);
    const sent = original.call(this, command, ...rest);
    if (!isDynamoDb || !(sent instanceof Promise)) return sent;
    return sent.then(
      (output: { ConsumedCapacity?: unknown }) => {
        if (operation === 'BatchExecuteStatement' && !output?.ConsumedCapacity) {
          meter.estimateStatements(command.input);
        } else meter.capacity(output?.ConsumedCapacity);
        return output;
      },
      (error: unknown) => {
        if (error instanceof ConditionalCheckFailedException) meter.estimateFailedWrite(error.Item);
        throw error;
      },
    );
  };
}
