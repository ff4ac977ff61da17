import { describe, expect, it, vi } from 'vitest';
import { type RouteJobDependencies, routeJob } from '../../src/commands/route-job.ts';
import { VersionConflictError } from '../../src/errors.ts';
import {
  auditKeysOf,
  decisionRecord,
  isDecision,
  RECORD_SCHEMA_VERSION,
} from '../../src/log/routing-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, rulesVersionOf } from '../../src/routing/routing-table.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const NOW = new Date('2026-11-25T10:00:01.000Z');

function given(overrides: Partial<RouteJobDependencies> = {}) {
  const log = new InMemoryRoutingLog();
  const deps: RouteJobDependencies = {
    log,
    credits: new InMemoryCreditBalances(),
    table: defaultRoutingTable,
    ...inMemoryContentPorts(new InMemoryContentVault()),
    now: () => NOW,
    newId: () => 'generated-id',
    ...overrides,
  };
  const when = (event: Parameters<typeof routeJob>[0]['data']['event']) =>
    routeJob({ type: 'RouteJob', data: { event } }, deps);
  return { log, deps, when };
}

describe('RouteJob', () => {
  it('given a routable submission, when routed, then one RoutingDecided record holds the routing facts, the sealed content and the explanation', async () => {
    const { log, when } = given();
    const detail = aSubmissionDetail({ jobId: 'job-1' });
    const event = aSubmittedEvent(detail);
    const result = await when(event);
    expect(result.outcome).toBe('recorded');
    const [record] = await log.readStream('job#job-1');
    expect(record).toMatchObject({
      type: 'RoutingDecided',
      version: 1,
      schemaVersion: RECORD_SCHEMA_VERSION,
      jobId: 'job-1',
      eventId: event.id,
      submittedAt: '2026-11-25T10:00:00Z',
      recordedAt: NOW.toISOString(),
      provider: 'fal',
      model: 'wan-i2v',
      queue: 'FalJobQueue',
      payloadHash: expect.stringMatching(/^k1:[A-Za-z0-9_-]{43}$/),
      explanation: { matchedRule: 'auto-short-720p-fal', rulesVersion: rulesVersionOf(defaultRoutingTable) },
    });
    expect(JSON.parse((record as { job: string }).job)).toEqual({
      jobId: 'job-1',
      lengthSec: 8,
      resolution: '720p',
      tier: 'standard',
      provider: 'auto',
    });
    expect(record).toMatchObject({ content: { keyId: 'transit#2026-11-25T10#i1' } });
    expect(JSON.stringify(record)).not.toMatch(/corgi surfing|"userId"|user-/);
    expect(record && isDecision(record) && auditKeysOf(record).partition).toMatch(/^fal#2026-11-25#[0-7]$/);
  });

  it('given an unroutable submission, when routed, then a RoutingRejected no_route record is appended', async () => {
    const { log, when } = given();
    await when(aSubmittedEvent(aSubmissionDetail({ jobId: 'job-2', lengthSec: 30 })));
    expect(await log.readStream('job#job-2')).toMatchObject([
      { type: 'RoutingRejected', reason: 'no_route', requestedProvider: 'auto', fieldErrors: [] },
    ]);
  });

  it('given an invalid submission with a jobId, when routed, then the rejection is filed under the job with field errors', async () => {
    const { log, when } = given();
    await when(aSubmittedEvent(aSubmissionDetail({ jobId: 'job-3', lengthSec: -1 })));
    const [record] = await log.readStream('job#job-3');
    expect(record).toMatchObject({
      type: 'RoutingRejected',
      reason: 'invalid_request',
      requestedProvider: 'none',
      explanation: null,
      fieldErrors: [expect.objectContaining({ path: 'detail.lengthSec' })],
    });
    expect(record && isDecision(record) && auditKeysOf(record).partition).toMatch(/^none#/);
  });

  it('given an event without a usable jobId, when routed, then it is still recorded, keyed by the event id', async () => {
    const { log, when } = given();
    const event = aSubmittedEvent({ prompt: 'no id' });
    const result = await when(event);
    expect(result.record.stream).toBe(`event#${event.id}`);
    expect(await log.readStream(`event#${event.id}`)).toMatchObject([
      {
        type: 'RoutingRejected',
        reason: 'invalid_request',
        jobId: null,
        job: '{}',
        content: { keyId: expect.any(String) },
      },
    ]);
  });

  it('given an event without an id at all, when routed, then a generated id keys it', async () => {
    const { when } = given();
    const result = await when({ source: 'frontend.api', 'detail-type': 'video.job.submitted', detail: 7 });
    expect(result.record).toMatchObject({ stream: 'event#generated-id', submittedAt: null, job: '{}' });
  });

  it('given a decided job, when the same payload arrives again, then it is a duplicate returning the original decision', async () => {
    const { log, when } = given();
    const detail = aSubmissionDetail({ jobId: 'job-4' });
    const first = await when(aSubmittedEvent(detail));
    const second = await when(aSubmittedEvent({ ...detail }));
    expect(second).toEqual({ outcome: 'duplicate', record: first.record });
    expect(await log.readStream('job#job-4')).toHaveLength(1);
  });

  it('given a decided job, when a different payload arrives for it, then it is a conflicting duplicate and nothing is overwritten', async () => {
    const { log, when } = given();
    const detail = aSubmissionDetail({ jobId: 'job-5' });
    const first = await when(aSubmittedEvent(detail));
    const changed = { ...detail, provider: 'replicate' };
    const second = await when(aSubmittedEvent(changed));
    expect(second).toEqual({ outcome: 'conflicting_duplicate', record: first.record });
    expect(await log.readStream('job#job-5')).toEqual([first.record]);
  });

  it('given the default table, when routing, then no credit balance is read', async () => {
    const credits = new InMemoryCreditBalances();
    const balanceOf = vi.spyOn(credits, 'balanceOf');
    await given({ credits }).when(aSubmittedEvent());
    expect(balanceOf).not.toHaveBeenCalled();
  });

  it('given a table that requires credits, when routing, then the balance is read and recorded in the explanation', async () => {
    const table = loadRoutingTable({
      version: 'credits-1',
      providers: { fal: { queue: 'FalJobQueue', models: { m: { pricePerSecond: 1 } } } },
      rules: [
        {
          id: 'paid',
          description: '',
          when: {},
          route: { provider: 'fal', model: 'm' },
          requireCredits: true,
        },
      ],
    });
    const { when } = given({ table, credits: new InMemoryCreditBalances({ 'user-rich': 100 }) });
    const rich = await when(aSubmittedEvent(aSubmissionDetail({ userId: 'user-rich', lengthSec: 8 })));
    const poor = await when(aSubmittedEvent(aSubmissionDetail({ userId: 'user-poor' })));
    expect(rich.record).toMatchObject({ outcome: 'routed', explanation: { creditBalance: 100 } });
    expect(poor.record).toMatchObject({
      reason: 'insufficient_credits',
      explanation: { creditBalance: null },
    });
  });

  it('given a corrupted stream whose version 1 is not a decision, when routing, then it fails loudly', async () => {
    const log: RoutingLog = {
      appendToStream: async (stream) => {
        throw new VersionConflictError(stream, 1, {
          existing: {
            type: 'ProjectionReplayRequested',
            stream: 'job#x',
            version: 1,
            schemaVersion: 1,
            jobId: 'x',
            recordedAt: NOW.toISOString(),
            replayId: 'r',
            requestedBy: 'a',
            why: 'b',
            replayOf: 1,
            decision: decisionRecord(
              {
                eventId: 'e',
                submittedAt: null,
                recordedAt: NOW.toISOString(),
                detail: {},
                payloadHash: 'k1:test',
              },
              { ...aSubmissionDetail(), provider: 'fal' } as never,
              { outcome: 'rejected', reason: 'no_route', explanation: {} as never },
            ),
          },
        });
      },
      readStream: async () => [],
    };
    await expect(given({ log }).when(aSubmittedEvent())).rejects.toThrow(/is not a decision/);
  });
});
