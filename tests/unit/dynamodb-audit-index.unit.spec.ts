/**
 * The audit index adapter on a mocked document client: which Query calls the index makes and how
 * pages and partitions merge (its behaviour on DynamoDB Local: tests/support/audit-index-contract.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_INDEX_NAME, DynamoDbAuditIndex } from '../../src/aws/dynamodb-audit-index.ts';
import { auditKeysOf, type DecisionRecord, type RoutingLogRecord } from '../../src/log/routing-records.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';
import type { AuditQueryProgress } from '../../src/ports/audit-index.ts';
import { aReplayOf } from '../support/records.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const documents = mockClient(DynamoDBDocumentClient);
afterEach(() => documents.reset());

/** A real document client: the mock answers every instance's send. */
const aDocumentClient = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

async function collect(generator: AsyncGenerator<DecisionRecord>): Promise<DecisionRecord[]> {
  const records: DecisionRecord[] = [];
  for await (const record of generator) records.push(record);
  return records;
}

const partitionOf = (input: QueryCommandInput) => String(input.ExpressionAttributeValues?.[':pk']);

/**
 * Serves each record's keys under its own gsi1pk, one per page, the way a paginated Query of a
 * KEYS_ONLY index returns, and the stored items themselves to the BatchGetItem of the table.
 */
function anIndexHolding(stored: readonly RoutingLogRecord[]) {
  const records = stored.map(
    (record) => storedItemOf(record) as { stream: string; version: number; gsi1pk?: string; gsi1sk?: string },
  );
  documents.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const inPartition = records.filter((record) => record.gsi1pk === partitionOf(input));
    const page = Number(input.ExclusiveStartKey?.page ?? 0);
    const more = page + 1 < inPartition.length;
    return {
      Items: inPartition
        .slice(page, page + 1)
        .map(({ stream, version, gsi1pk, gsi1sk }) => ({ stream, version, gsi1pk, gsi1sk })),
      ...(more ? { LastEvaluatedKey: { page: page + 1 } } : {}),
    };
  });
  documents.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const responses: Record<string, unknown[]> = {};
    for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
      responses[table] = (request.Keys ?? []).flatMap((key) =>
        records.filter((record) => record.stream === key.stream && record.version === key.version),
      );
    }
    return { Responses: responses };
  });
}

const WINDOW = { since: '2026-11-25T00:00:00.000Z', until: '2026-11-27T00:00:00.000Z' };

describe('the audit index on DynamoDB', () => {
  it('given decisions over two days and partitions, when listed, then they come in recorded-time order, day by day, across pages', async () => {
    const day2 = aDecisionRecord({}, '2026-11-26T08:00:00.000Z');
    const day1Late = aDecisionRecord({ provider: 'replicate' }, '2026-11-25T12:00:00.000Z');
    const day1Early = aDecisionRecord({}, '2026-11-25T09:00:00.000Z');
    const day1Middle = aDecisionRecord({}, '2026-11-25T10:00:00.000Z');
    anIndexHolding([day2, day1Late, day1Early, day1Middle]);
    const index = new DynamoDbAuditIndex(aDocumentClient(), 'RoutingLog-dev');
    const listed = await collect(index.decisions(['fal', 'replicate'], WINDOW));
    expect(listed.map((record) => record.recordedAt)).toEqual([
      day1Early.recordedAt,
      day1Middle.recordedAt,
      day1Late.recordedAt,
      day2.recordedAt,
    ]);
  });

  it('given a window, when listed, then every partition of every day is queried on the index with the window as sort-key bounds', async () => {
    anIndexHolding([]);
    const progress: AuditQueryProgress[] = [];
    const index = new DynamoDbAuditIndex(aDocumentClient(), 'RoutingLog-dev');
    expect(await collect(index.decisions(['fal'], WINDOW, (p) => progress.push(p)))).toEqual([]);
    const inputs = documents.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(16);
    expect(new Set(inputs.map(partitionOf))).toEqual(
      new Set(
        ['2026-11-25', '2026-11-26'].flatMap((day) => Array.from({ length: 8 }, (_, s) => `fal#${day}#${s}`)),
      ),
    );
    expect(
      inputs.every((input) => input.IndexName === AUDIT_INDEX_NAME && input.TableName === 'RoutingLog-dev'),
    ).toBe(true);
    expect(inputs[0]?.ExpressionAttributeValues).toMatchObject({
      ':since': WINDOW.since,
      ':until': WINDOW.until,
    });
    expect(progress.at(-1)).toEqual({ partitionsQueried: 16, partitionsTotal: 16 });
    expect(progress.map((p) => p.partitionsQueried)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('given a page without items and a replay record in the index, when listed, then neither yields a decision', async () => {
    const decision = aDecisionRecord({}, '2026-11-25T09:00:00.000Z');
    const replay = aReplayOf(decision);
    anIndexHolding([replay, decision]);
    documents.on(QueryCommand).resolves({});
    documents
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': auditKeysOf(decision).partition } })
      .resolves({ Items: [replay, decision].map(({ stream, version }) => ({ stream, version })) });
    const index = new DynamoDbAuditIndex(aDocumentClient(), 'RoutingLog-dev');
    expect(await collect(index.decisions(['fal'], WINDOW))).toEqual([decision]);
  });

  it('given a consumer that stops early, when listed, then the next day is never queried', async () => {
    anIndexHolding([aDecisionRecord({}, '2026-11-25T09:00:00.000Z')]);
    const index = new DynamoDbAuditIndex(aDocumentClient(), 'RoutingLog-dev');
    for await (const _ of index.decisions(['fal'], WINDOW)) break;
    const days = documents
      .commandCalls(QueryCommand)
      .map((call) => partitionOf(call.args[0].input).split('#')[1]);
    expect(new Set(days)).toEqual(new Set(['2026-11-25']));
  });
});
