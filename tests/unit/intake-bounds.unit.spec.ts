/**
 * Intake never throws, for any JSON value, and what it records always fits a DynamoDB item:
 * arbitrary values, thousands of levels of nesting, huge arrays and strings, as the whole detail or
 * in one field. Sizes are measured on the marshalled item, as DynamoDB counts them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RouteJobDependencies, routeJob } from '../../src/commands/route-job.ts';
import {
  MAX_DETAIL_BYTES,
  MAX_DETAIL_DEPTH,
  type SubmittedEvent,
  validateSubmission,
} from '../../src/intake/submission.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { decisionOf } from '../support/decisions.ts';
import { DYNAMODB_ITEM_LIMIT_BYTES, dynamoDbItemSize } from '../support/dynamodb-item-size.ts';
import { hostileDetail, hostileValue, nested, withField } from '../support/hostile-json.ts';
import { aReplayOf } from '../support/records.ts';
import { aSubmittedEvent } from '../support/submissions.ts';

const dependencies = (maxMessageBytes?: number): RouteJobDependencies => ({
  log: new InMemoryRoutingLog(),
  credits: new InMemoryCreditBalances(),
  table: defaultRoutingTable,
  ...inMemoryContentPorts(new InMemoryContentVault()),
  now: () => new Date('2026-11-25T10:00:01.000Z'),
  newId: () => 'generated-id',
  ...(maxMessageBytes ? { maxMessageBytes } : {}),
});

async function record(detail: unknown, maxMessageBytes?: number) {
  const result = await routeJob(
    { type: 'RouteJob', data: { event: aSubmittedEvent(detail) } },
    dependencies(maxMessageBytes),
  );
  return decisionOf(result.record);
}

describe('intake bounds', () => {
  it('given any JSON detail (deep, huge, hostile keys), when validated and recorded, then nothing throws and the record and its replay copy fit a DynamoDB item', async () => {
    let largest = 0;
    await fc.assert(
      fc.asyncProperty(hostileDetail, async (detail) => {
        const written = await record(detail);
        const size = dynamoDbItemSize(written);
        largest = Math.max(largest, size);
        expect(size).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
        if (written.jobId !== null) {
          expect(dynamoDbItemSize(aReplayOf(written))).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
        }
      }),
      { numRuns: 100 },
    );
    expect(largest).toBeGreaterThan(0);
    // ~9 s alone; 90 s seen under coverage with the machine's other suites: a limit, not a speed goal.
  }, 180_000);

  it('given any JSON value as the whole event, or in any of its fields, when recorded, then nothing throws and the record fits', async () => {
    const anyEvent = fc.oneof(
      hostileValue,
      fc
        .tuple(fc.constantFrom('id', 'source', 'detail-type', 'time', 'detail'), hostileValue)
        .map(([field, value]) => ({ ...aSubmittedEvent(), [field]: value })),
    );
    await fc.assert(
      fc.asyncProperty(anyEvent, async (event) => {
        const result = await routeJob(
          { type: 'RouteJob', data: { event: event as SubmittedEvent } },
          dependencies(),
        );
        expect(dynamoDbItemSize(result.record)).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('given a detail at the byte bound, when recorded, then the record and a replay of it still fit a DynamoDB item', async () => {
    // The worst case that is still kept: a routable job whose extra field fills the bound.
    const filler = 'x'.repeat(MAX_DETAIL_BYTES - 400);
    // Provider queues configured for 1 MiB messages: the job is routed, not message_too_large.
    const written = await record(withField('reference', filler), 1_048_576);
    expect(written.type).toBe('RoutingDecided');
    expect(dynamoDbItemSize(written)).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    expect(dynamoDbItemSize(aReplayOf(written))).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
  });

  it.each([
    ['nested 5,000 levels in an extra field', withField('meta', nested(5_000))],
    ['nested one level too deep', withField('meta', nested(MAX_DETAIL_DEPTH))],
    ['nested 20,000 levels as the detail itself', nested(20_000, 'array')],
  ])(
    'given a detail %s, then it is rejected as invalid_request naming the depth bound, and only facts are recorded',
    async (_case, detail) => {
      const result = validateSubmission(aSubmittedEvent(detail), defaultRoutingTable);
      expect(result).toMatchObject({
        ok: false,
        reason: 'invalid_request',
        fieldErrors: [{ path: 'detail', message: `nested deeper than ${MAX_DETAIL_DEPTH} levels` }],
      });
      const written = await record(detail);
      expect(written).toMatchObject({ type: 'RoutingRejected', reason: 'invalid_request', job: null });
      expect(written.payloadHash).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    },
  );

  it('given a detail at the depth bound, then it is accepted', () => {
    expect(
      validateSubmission(
        aSubmittedEvent(withField('meta', nested(MAX_DETAIL_DEPTH - 1))),
        defaultRoutingTable,
      ).ok,
    ).toBe(true);
  });

  it('given a detail larger than the byte bound, then it is rejected as invalid_request filed under its jobId, with no copy of it', async () => {
    const detail = { ...withField('reference', 'x'.repeat(MAX_DETAIL_BYTES)), jobId: 'job-huge' };
    const written = await record(detail);
    expect(written).toMatchObject({
      type: 'RoutingRejected',
      stream: 'job#job-huge',
      reason: 'invalid_request',
      job: null,
      fieldErrors: [{ path: 'detail', message: `larger than ${MAX_DETAIL_BYTES} bytes of JSON` }],
    });
    expect(dynamoDbItemSize(written)).toBeLessThan(2_000);
  });

  it('given two different oversized details with one jobId, then their payload hashes differ (a conflict is still told from a redelivery)', async () => {
    const a = await record({ ...withField('reference', 'a'.repeat(MAX_DETAIL_BYTES)), jobId: 'job-x' });
    const b = await record({ ...withField('reference', 'b'.repeat(MAX_DETAIL_BYTES)), jobId: 'job-x' });
    expect(a.payloadHash).not.toBe(b.payloadHash);
  });
});

describe('the event envelope', () => {
  it('given a direct invocation with no event at all, when routed, then an invalid_request record is made under a generated id', async () => {
    for (const event of [null, undefined]) {
      const result = await routeJob({ type: 'RouteJob', data: { event: event as never } }, dependencies());
      expect(result.record).toMatchObject({ stream: 'event#generated-id', reason: 'invalid_request' });
    }
  });

  it('given an event id longer than any EventBridge id, when routed twice, then the record is keyed by its hash, the same each time', async () => {
    const event = { ...aSubmittedEvent('not a job'), id: 'i'.repeat(10_000), time: 't'.repeat(1_000) };
    const first = await routeJob({ type: 'RouteJob', data: { event } }, dependencies());
    const second = await routeJob({ type: 'RouteJob', data: { event } }, dependencies());
    expect(first.record.stream).toMatch(/^event#sha256-[0-9a-f]{64}$/);
    expect(second.record.stream).toBe(first.record.stream);
    expect(first.record.submittedAt).toBeNull();
  });
});
