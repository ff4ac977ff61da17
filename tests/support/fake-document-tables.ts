/**
 * The routing log, Jobs and Credits tables served through a mocked DynamoDBDocumentClient
 * (aws-sdk-client-mock), so the operator CLI runs end to end in a unit test: audit-index queries by
 * partition and sort-key range (keys only) with the items read back by BatchGetItem, stream reads,
 * conditional appends, Jobs and Credits reads. The log holds records; they are served as the items
 * the adapter writes (src/log/stored-records.ts), and appended items are read back into records.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { AUDIT_INDEX_NAME } from '../../src/aws/dynamodb-audit-index.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { recordFromItem, storedItemOf } from '../../src/log/stored-records.ts';

export interface FakeTables {
  /** Every record of the routing log, in any order. */
  readonly log: RoutingLogRecord[];
  /** Jobs items by jobId. */
  readonly jobs: Map<string, Record<string, unknown>>;
  /** Credits items by userId. */
  readonly credits: Map<string, Record<string, unknown>>;
  /**
   * Runs before a conditional append is checked: a concurrent writer can append its own record
   * here (at the same version), so the append loses.
   */
  beforeAppend?: (record: RoutingLogRecord) => void;
}

export function serveTables(
  documents: AwsClientStub<DynamoDBDocumentClient>,
  initial: { log?: readonly RoutingLogRecord[]; jobs?: readonly Record<string, unknown>[] } = {},
): FakeTables {
  const tables: FakeTables = {
    log: [...(initial.log ?? [])],
    jobs: new Map((initial.jobs ?? []).map((item) => [String(item.jobId), item])),
    credits: new Map(),
  };
  documents.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const values = input.ExpressionAttributeValues ?? {};
    if (input.IndexName === AUDIT_INDEX_NAME) {
      const items = tables.log.filter((record) => {
        // The GSI files a stored item by the keys its stored form carries (decisions only).
        const keys = storedItemOf(record) as { gsi1pk?: string; gsi1sk?: string };
        return (
          keys.gsi1pk === values[':pk'] &&
          (keys.gsi1sk ?? '') >= values[':since'] &&
          (keys.gsi1sk ?? '') <= values[':until']
        );
      });
      // The index projects keys only: the reader fetches the items with BatchGetItem (below).
      return { Items: items.map(({ stream, version }) => ({ stream, version })) };
    }
    const items = tables.log
      .filter((record) => record.stream === values[':stream'])
      .sort((a, b) => a.version - b.version);
    return { Items: structuredClone(items.map(storedItemOf)) };
  });
  documents.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const responses: Record<string, unknown[]> = {};
    for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
      responses[table] = (request.Keys ?? []).flatMap((key): unknown[] => {
        if ('stream' in key) {
          return tables.log
            .filter((r) => r.stream === key.stream && r.version === key.version)
            .map(storedItemOf);
        }
        const job = 'jobId' in key ? tables.jobs.get(String(key.jobId)) : undefined;
        return job ? [job] : [];
      });
    }
    return { Responses: structuredClone(responses) };
  });
  documents.on(PutCommand).callsFake((input: PutCommandInput) => {
    const record = recordFromItem(structuredClone(input.Item ?? {}));
    tables.beforeAppend?.(record);
    const existing = tables.log.find((r) => r.stream === record.stream && r.version === record.version);
    if (existing) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(storedItemOf(existing), { removeUndefinedValues: true }),
      });
    }
    tables.log.push(structuredClone(record));
    return {};
  });
  documents.on(GetCommand).callsFake((input: GetCommandInput) => {
    const key = input.Key ?? {};
    const item = 'jobId' in key ? tables.jobs.get(String(key.jobId)) : tables.credits.get(String(key.userId));
    return item ? { Item: structuredClone(item) } : {};
  });
  return tables;
}
