import { randomUUID } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../bench/support/workload.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import {
  type DecisionRecord,
  type ProjectionRedriveRequestedRecord,
  RECORD_SCHEMA_VERSION,
  type RoutingDecidedRecord,
  type RoutingLogRecord,
} from '../../src/log/routing-records.ts';
import { recordFromItem, storedItemOf, UnsupportedRecordError } from '../../src/log/stored-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import type { EtaContext } from '../../src/routing/eta.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { dynamoDbItemSize } from '../support/dynamodb-item-size.ts';
import { V1_ROUTED, V2_NO_ROUTE, V2_REPLAY, V2_ROUTED } from '../support/old-format-items.ts';
import { aNoRouteRecord, anInvalidRequestRecord, aReplayOf, aRoutedRecord } from '../support/records.ts';

/** Through DynamoDB's own marshalling, as the document client puts and reads it. */
const throughDynamoDb = (record: RoutingLogRecord): RoutingLogRecord =>
  recordFromItem(unmarshall(marshall(storedItemOf(record), { removeUndefinedValues: true })));

/** Bytes as hex, so a Buffer and a Uint8Array of the same bytes compare equal. */
const bytesAsHex = (value: unknown): unknown =>
  value instanceof Uint8Array
    ? Buffer.from(value).toString('hex')
    : Array.isArray(value)
      ? value.map(bytesAsHex)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, bytesAsHex(inner)]))
        : value;

/** An item as DynamoDB holds it (attribute values): bytes are bytes, whatever array type carried them. */
const asAttributes = (item: Record<string, unknown>): unknown =>
  bytesAsHex(marshall(item, { removeUndefinedValues: true }));

/** A version 1 item as the router wrote it before the compact trail: the record shape as it is. */
const asVersion1 = <R extends DecisionRecord>(record: R): R => ({ ...record, schemaVersion: 1 });

const withHealthTrail = (record: RoutingDecidedRecord): RoutingDecidedRecord => ({
  ...record,
  explanation: {
    ...record.explanation,
    health: { read: 'ok', panic: true },
    candidates: [
      {
        rule: 'r1',
        provider: 'fal',
        model: 'm',
        verdict: 'excluded',
        reason: 'provider_unhealthy',
        detail: 'breaker fal v3 open',
        breaker: 'fal',
        healthVersion: 3,
      },
      {
        rule: 'r1',
        provider: 'replicate',
        model: 'n',
        verdict: 'selected',
        breaker: 'replicate#n',
        healthVersion: 0,
        probe: true,
        healthIgnored: true,
        detail: 'half-open probe',
      },
      { rule: 'r2', provider: null, model: null, verdict: 'rejects' },
      {
        rule: 'r3',
        provider: 'fal',
        model: 'm',
        verdict: 'excluded',
        reason: 'tier_mismatch',
        detail: 'tier other than the job',
      },
    ],
  },
});

describe('stored records: what is written and read back', () => {
  it.each<[string, () => RoutingLogRecord]>([
    ['a routed auto decision', () => aRoutedRecord()],
    ['an explicit decision', () => aRoutedRecord({ provider: 'replicate' })],
    [
      'a no_route rejection (its requested provider left out, then restored)',
      () => aNoRouteRecord({ tier: 'pro', resolution: '1080p' }),
    ],
    ['an intake rejection with field errors and no explanation', () => anInvalidRequestRecord()],
    [
      'a trail with health, probe and a detail that is not the job fact',
      () => withHealthTrail(aRoutedRecord()),
    ],
    ['a replay carrying its decision', () => aReplayOf(aRoutedRecord())],
    [
      'an intake rejection without a jobId (an event# stream)',
      () => anInvalidRequestRecord({ withJobId: false }),
    ],
    [
      'an explanation whose requested provider is not the job fact',
      () => {
        const record = aRoutedRecord();
        return { ...record, explanation: { ...record.explanation, requestedProvider: 'replicate' } };
      },
    ],
    ['a jobId its stream does not say', () => ({ ...aRoutedRecord(), stream: 'job#other' })],
    [
      'a legacy unkeyed payload hash (64 hex digits)',
      () => ({ ...aRoutedRecord(), payloadHash: 'ab'.repeat(32) }),
    ],
    [
      'a payload hash in no known form (kept as text)',
      () => ({ ...aRoutedRecord(), payloadHash: 'k1:short' }),
    ],
  ])('given %s, when stored and read back, then it is the same record', (_case, build) => {
    const record = build();
    expect(throughDynamoDb(record)).toEqual(record);
  });

  it('given a re-drive of a revision-like replay, when stored and read back, then its nested target is the same', () => {
    const replay = aReplayOf(aNoRouteRecord(), 2);
    const redrive: ProjectionRedriveRequestedRecord = {
      stream: replay.stream,
      version: 3,
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: replay.jobId,
      recordedAt: replay.recordedAt,
      type: 'ProjectionRedriveRequested',
      redriveId: 'redrive-1',
      incident: 'INC-1',
      requestedBy: 'ops',
      why: 'dlq',
      redriveOf: 2,
      target: replay,
    };
    expect(throughDynamoDb(redrive)).toEqual(redrive);
  });

  it('given a routed decision, when stored, then the trail is tuples, nothing derivable is repeated and the hash is 32 bytes', () => {
    const record = aRoutedRecord();
    const item = storedItemOf(record) as {
      explanation: { t: unknown[]; candidates?: unknown };
      payloadHash: unknown;
      outcome?: unknown;
    };
    expect(item.explanation.candidates).toBeUndefined();
    expect(item.explanation.t[0]).toEqual([
      'explicit-fal',
      'fal',
      'wan-i2v',
      'x',
      'requested_provider_mismatch',
    ]);
    expect(item.payloadHash).toBeInstanceOf(Uint8Array);
    expect(item.outcome).toBeUndefined();
    expect(item).not.toHaveProperty('jobId');
    expect(item.explanation).not.toHaveProperty('q');
  });
});

describe('stored records: items of older schema versions (upcast on read, never rewritten)', () => {
  it.each<[string, () => DecisionRecord]>([
    ['a routed decision', () => aRoutedRecord()],
    ['a rejection', () => aNoRouteRecord()],
    ['an intake rejection', () => anInvalidRequestRecord()],
  ])(
    'given a version 1 item of %s (candidates as maps), when read, then it is the record it was',
    (_case, build) => {
      const v1 = asVersion1(build());
      expect(recordFromItem(unmarshall(marshall(v1, { removeUndefinedValues: true })))).toEqual(v1);
      expect(throughDynamoDb(v1)).toEqual(v1);
    },
  );

  it('given a version 2 replay carrying a decision first stored as version 1, when read, then both keep their shape', () => {
    const replay = aReplayOf(asVersion1(aRoutedRecord()), 2);
    const stored = { ...replay, schemaVersion: RECORD_SCHEMA_VERSION };
    expect(throughDynamoDb(stored)).toEqual(stored);
  });

  it.each([
    ['a trail that is not a list', { t: 'x' }, /not a list/],
    ['a candidate that is not a tuple', { t: [{ rule: 'r' }] }, /not a tuple/],
    ['a candidate with an unknown verdict', { t: [['r', null, null, 'q']] }, /no known verdict/],
  ])(
    'given a stored decision with %s, when read, then it is a typed error',
    (_case, explanation, message) => {
      const item = {
        ...storedItemOf(aRoutedRecord()),
        explanation: { v: 'v', m: null, ...explanation },
      };
      expect(() => recordFromItem(item)).toThrow(UnsupportedRecordError);
      expect(() => recordFromItem(item)).toThrow(message);
    },
  );

  it.each([
    ['a version 2 routed decision', V2_ROUTED],
    ['a version 2 rejection', V2_NO_ROUTE],
    ['a version 1 routed decision', V1_ROUTED],
  ])(
    'given %s as earlier code stored it, when read and stored again, then the item is the same, index keys included',
    (_case, item) => {
      const record = recordFromItem(structuredClone(item));
      expect(record).not.toHaveProperty('gsi1pk');
      expect(record).not.toHaveProperty('gsi1sk');
      expect(asAttributes(storedItemOf(record))).toEqual(asAttributes(item));
    },
  );

  it('given a replay as earlier code stored it (index keys on its copy), when read and stored again, then only the copy loses the keys', () => {
    const { gsi1pk: _pk, gsi1sk: _sk, ...copy } = V2_REPLAY.decision as Record<string, unknown>;
    const record = recordFromItem(structuredClone(V2_REPLAY));
    expect(JSON.stringify(record)).not.toMatch(/gsi1/);
    expect(asAttributes(storedItemOf(record))).toEqual(asAttributes({ ...V2_REPLAY, decision: copy }));
  });

  it('given a stored payload hash of an unknown length, when read, then it is a typed error', () => {
    const item = { ...storedItemOf(aRoutedRecord()), payloadHash: new Uint8Array(5) };
    expect(() => recordFromItem(item)).toThrow(/payload hash of 5 bytes/);
  });

  it('given a re-drive whose target is itself a re-drive, when read, then it is refused (one level only)', () => {
    const item = {
      type: 'ProjectionRedriveRequested',
      schemaVersion: 2,
      target: { type: 'ProjectionRedriveRequested', schemaVersion: 2, target: {} },
    };
    expect(() => recordFromItem(item)).toThrow(/itself a re-drive/);
  });
});

describe('stored records: size', () => {
  it('given the bench mix with UUID event and job ids, when every decision is stored, then each item is under 1 KB (1 write unit)', async () => {
    const log = new InMemoryRoutingLog();
    const ports = inMemoryContentPorts(new InMemoryContentVault());
    const sizes: number[] = [];
    for (const event of buildWorkload(400).events) {
      const jobId = typeof event.detail.jobId === 'string' ? `job-${randomUUID()}` : event.detail.jobId;
      const result = await routeJob(
        {
          type: 'RouteJob',
          data: { event: { ...event, id: randomUUID(), detail: { ...event.detail, jobId } } },
        },
        {
          log,
          credits: { balanceOf: async () => 100 },
          table: defaultRoutingTable,
          ...ports,
          now: () => new Date('2026-12-06T10:00:00.000Z'),
          newId: randomUUID,
        },
      );
      sizes.push(dynamoDbItemSize(storedItemOf(result.record)));
    }
    expect(sizes.length).toBeGreaterThan(300);
    expect(Math.max(...sizes)).toBeLessThan(1024);
  }, 60_000);

  it('given a table preferring eta with every candidate measured (large counts), when the bench mix is stored, then quotes add at most ~130 bytes to an item', async () => {
    const [plain, quoted] = [
      await storedSizes(defaultRoutingTable),
      await storedSizes(preferEtaTable, measuredEta),
    ];
    expect(quoted.length).toBeGreaterThan(300);
    // Measured: default table ≤ 947 B routed; this table, two quotes with 4–5 digit counts, ≤ 1,077 B.
    expect(Math.max(...quoted) - Math.max(...plain)).toBeLessThanOrEqual(140);
    expect(Math.max(...quoted)).toBeLessThan(2048);
    // Routes the bench mix twice (~1 s alone, 6 s seen on a loaded machine): a limit, not a speed goal.
  }, 60_000);
});

const preferEtaTable = loadRoutingTable({
  ...structuredClone(defaultRoutingTable),
  version: 'prefer-eta',
  usdPerCredit: 0.01,
  tiers: { standard: { maxEtaSec: 3600 } },
  rules: defaultRoutingTable.rules.map((rule) =>
    rule.id === 'auto-short-720p-fal' ? { ...rule, prefer: 'eta' } : rule,
  ),
});
const times = (seconds: number) => ({ p50Ms: seconds * 1000, p95Ms: seconds * 3000, samples: 1234 });
const measuredPair = (seconds: number) => ({
  run: { '720p|l10': times(seconds), '720p|l5': times(seconds) },
  runAll: times(seconds),
  queue: times(seconds / 10),
  attempts: 1300,
  succeeded: 1234,
  chargedMicroUsd: 0,
  chargedOutputMs: 0,
  fromMs: 0,
  toMs: 1,
});
const measuredEta = {
  pairs: { 'fal#wan-i2v': measuredPair(840), 'replicate#wan-2.1-i2v': measuredPair(181) },
  slotsFree: { fal: 12345, replicate: 678 },
};

/** The stored item sizes of the bench mix decided under a table (and measured completion times). */
async function storedSizes(table: RoutingTable, eta?: EtaContext): Promise<number[]> {
  const log = new InMemoryRoutingLog();
  const ports = inMemoryContentPorts(new InMemoryContentVault());
  const sizes: number[] = [];
  for (const event of buildWorkload(400).events) {
    const jobId = typeof event.detail.jobId === 'string' ? `job-${randomUUID()}` : event.detail.jobId;
    const result = await routeJob(
      {
        type: 'RouteJob',
        data: { event: { ...event, id: randomUUID(), detail: { ...event.detail, jobId } } },
      },
      {
        log,
        credits: { balanceOf: async () => 100 },
        table,
        ...ports,
        now: () => new Date('2026-12-06T10:00:00.000Z'),
        newId: randomUUID,
        ...(eta ? { eta: { reader: { context: async () => eta } } } : {}),
      },
    );
    sizes.push(dynamoDbItemSize(storedItemOf(result.record)));
  }
  return sizes;
}
