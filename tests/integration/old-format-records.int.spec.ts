/**
 * Records already in a deployed log keep working: items exactly as earlier code wrote them
 * (tests/support/old-format-items.ts — schemaVersion 1, and schemaVersion 2 with the audit index's
 * keys on every decision, a replay's copy included) are put into DynamoDB Local raw, then read back
 * through the adapters and run through `history`, `decisions`, `what-if` and `replay`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbAuditIndex } from '../../src/aws/dynamodb-audit-index.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import type { DecisionRecord, RoutingLogRecord } from '../../src/log/routing-records.ts';
import { runCliOn } from '../support/cli-run.ts';
import {
  OLD_ITEMS_WINDOW,
  V1_ROUTED,
  V2_NO_ROUTE,
  V2_REPLAY,
  V2_ROUTED,
} from '../support/old-format-items.ts';
import { aTableRoutingAutoTo } from '../support/rules.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
const documents = createDocumentClient();
const WINDOW = ['--since', OLD_ITEMS_WINDOW.since, '--until', OLD_ITEMS_WINDOW.until];

const cli = (...argv: string[]) =>
  runCliOn(stack.stage, argv, { now: () => new Date('2026-10-01T12:00:00.000Z') });

const log = () => new DynamoDbRoutingLog(documents, stack.tables.routingLog);
const rawItem = async (stream: string, version: number) =>
  (await documents.send(new GetCommand({ TableName: stack.tables.routingLog, Key: { stream, version } })))
    .Item;

beforeAll(async () => {
  stack = await aProvisionedStack();
  for (const item of [V2_ROUTED, V2_REPLAY, V2_NO_ROUTE, V1_ROUTED]) {
    await documents.send(new PutCommand({ TableName: stack.tables.routingLog, Item: item }));
  }
});

afterAll(() => documents.destroy());

describe('old-format items read through the routing log adapter', () => {
  it('given schemaVersion 2 items with index keys on the decision and its replayed copy, when the stream is read, then the records carry no storage keys and the copy equals the decision', async () => {
    const [decision, replay] = (await log().readStream('job#old-v2-routed')) as [
      DecisionRecord,
      RoutingLogRecord,
    ];
    expect(decision).toMatchObject({
      type: 'RoutingDecided',
      data: {
        outcome: 'routed',
        provider: 'fal',
        explanation: {
          matchedRule: 'auto-short-720p-fal',
          requestedProvider: 'auto',
          candidates: [
            { rule: 'explicit-fal', verdict: 'excluded', detail: 'provider auto' },
            { rule: 'explicit-replicate', verdict: 'excluded', detail: 'provider auto' },
            { rule: 'auto-short-720p-fal', verdict: 'selected' },
          ],
        },
      },
      metadata: { jobId: 'old-v2-routed', payloadHash: expect.stringMatching(/^k1:/) },
    });
    expect(decision).not.toHaveProperty('gsi1pk');
    expect(decision).not.toHaveProperty('gsi1sk');
    expect(replay).toMatchObject({
      type: 'ProjectionReplayRequested',
      data: { decision },
      metadata: { version: 2 },
    });
    expect(JSON.stringify(replay)).not.toMatch(/gsi1/);
  });

  it('given a schemaVersion 1 item, when the stream is read, then it reads in the current shape with its legacy hash', async () => {
    const [decision] = await log().readStream('job#old-v1-routed');
    expect(decision).toMatchObject({
      type: 'RoutingDecided',
      data: { explanation: { candidates: [{ detail: 'provider auto' }, {}, { verdict: 'selected' }] } },
      metadata: { schemaVersion: 1, jobId: 'old-v1-routed', payloadHash: V1_ROUTED.payloadHash },
    });
    expect(decision).not.toHaveProperty('gsi1pk');
  });

  it('given the old items, when the audit index lists the window, then it finds every decision by the keys they were stored with', async () => {
    const index = new DynamoDbAuditIndex(documents, stack.tables.routingLog);
    const listed: DecisionRecord[] = [];
    for await (const record of index.decisions(['fal', 'auto'], OLD_ITEMS_WINDOW)) listed.push(record);
    expect(listed.map((record) => record.metadata.jobId)).toEqual([
      'old-v2-routed',
      'old-v2-no-route',
      'old-v1-routed',
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/gsi1/);
  });
});

describe('the CLI over old-format items', () => {
  it('given old items, when their history is asked, then the decisions and the replay show with their explanation', async () => {
    const v2 = await cli('history', 'old-v2-routed', '--json');
    expect(v2.code).toBe(0);
    expect(v2.json()).toMatchObject({
      jobId: 'old-v2-routed',
      records: [
        { type: 'RoutingDecided', version: 1, provider: 'fal', dispatchId: 'old-v2-routed:v1' },
        { type: 'ProjectionReplayRequested', version: 2, decision: { provider: 'fal' } },
      ],
    });
    expect(v2.stdout).not.toMatch(/gsi1pk|gsi1sk|payloadHash|schemaVersion/);
    const v1 = await cli('history', 'old-v1-routed');
    expect(v1.code).toBe(0);
    expect(v1.stdout).toMatch(/explicit-fal\s+fal\/wan-i2v\s+excluded\s+requested_provider_mismatch/);
    const rejected = await cli('history', 'old-v2-no-route');
    expect(rejected.stdout).toMatch(/rejected: no_route/);
  });

  it('given old items, when decisions are audited, then all three are listed in time order', async () => {
    const result = await cli('decisions', '--provider', 'fal,auto', ...WINDOW, '--json');
    expect(result.code).toBe(0);
    expect(result.lines().map((row) => row.jobId)).toEqual([
      'old-v2-routed',
      'old-v2-no-route',
      'old-v1-routed',
    ]);
  });

  it('given old items, when a candidate table is evaluated over them, then every decision is re-decided', async () => {
    const candidate = aTableRoutingAutoTo('replicate', 'candidate-replicate-short');
    const file = join(await mkdtemp(join(tmpdir(), 'old-items-')), 'candidate.json');
    await writeFile(file, JSON.stringify(candidate));
    const result = await cli('what-if', '--rules', file, ...WINDOW, '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      scanned: 3,
      changed: 2,
      transitions: [{ from: 'fal/wan-i2v', to: 'replicate/wan-2.1-i2v', count: 2 }],
    });
  });

  it('given old items, when their fal jobs are replayed, then each gets a replay whose copy reads back as the decision, stored without index keys', async () => {
    const result = await cli(
      'replay',
      '--incident',
      'INC-OLD-ITEMS',
      '--provider',
      'fal',
      ...WINDOW,
      '--why',
      'lost messages',
      '--by',
      'ops@example.com',
      '--json',
    );
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ matched: 2, appended: 2, failed: 0 });

    const [v1Decision, v1Replay] = await log().readStream('job#old-v1-routed');
    expect(v1Replay).toMatchObject({
      type: 'ProjectionReplayRequested',
      data: { decision: v1Decision },
      metadata: { version: 2 },
    });
    const [v2Decision, , v2Replay] = await log().readStream('job#old-v2-routed');
    expect(v2Replay).toMatchObject({
      type: 'ProjectionReplayRequested',
      data: { decision: v2Decision },
      metadata: { version: 3 },
    });

    // The new replay items: a copied decision is not filed again; the decisions keep their keys.
    const stored = await rawItem('job#old-v2-routed', 3);
    expect(stored).not.toHaveProperty('gsi1pk');
    expect(stored?.decision).not.toHaveProperty('gsi1pk');
    expect(await rawItem('job#old-v2-routed', 1)).toMatchObject({ gsi1pk: V2_ROUTED.gsi1pk });
  });
});
