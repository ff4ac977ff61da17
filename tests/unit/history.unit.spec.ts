import { describe, expect, it } from 'vitest';
import { healthSummary, renderHistory, streamOf } from '../../src/cli/verbs/history.ts';
import { decisionRecord, healthChangedRecord, type RoutingLogRecord } from '../../src/log/routing-records.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aJob } from '../support/jobs.ts';
import { aTransition } from '../support/provider-health-contract.ts';

const historyOf = (jobId: string, stream: string, record: RoutingLogRecord) =>
  renderHistory(
    { jobId, stream, job: null, records: [record], projection: null, content: { status: 'hidden' } },
    'Jobs-test',
  );

describe('history shows the health each decision read', () => {
  it('given a decision that failed over, then the history names the excluded breaker and its version', () => {
    const job = aJob({ provider: 'auto', lengthSec: 8, resolution: '720p' });
    const decision = decide(job, {
      table: defaultRoutingTable,
      health: {
        read: 'ok',
        candidates: { 'fal#wan-i2v': { health: 'unhealthy', breaker: 'fal#wan-i2v', version: 7 } },
      },
    });
    const record = decisionRecord(
      {
        eventId: 'e1',
        submittedAt: null,
        recordedAt: '2026-11-25T14:02:00.000Z',
        detail: job,
        payloadHash: 'k1:test',
      },
      job,
      decision,
    );
    const text = historyOf(job.jobId, record.metadata.stream, record);
    // Never "health ok" beside an exclusion, and the breaker named once per candidate.
    expect(text).not.toContain('health ok');
    expect(text).toContain('health: fal/wan-i2v unhealthy, excluded');
    expect(text).toMatch(/provider_unhealthy: breaker fal#wan-i2v v7 open\n/);
  });

  it('given a breaker stream, then each transition is listed with its cause', () => {
    const record = healthChangedRecord(aTransition('fal'));
    const text = historyOf('health#fal', 'health#fal', record);
    expect(text).toContain('ProviderHealthChanged  closed → open (auto) until 2026-11-25T14:01:00.000Z');
    expect(text).toContain('    5 consecutive failures (server_error); caused by evt-5');
    expect(text.split('\n')[0]).toBe(
      "breaker fal: a provider circuit breaker's stream — every transition of its state, oldest first",
    );
    expect(text).not.toMatch(/job|projection|content/);
    expect(streamOf('health#fal')).toBe('health#fal');
  });

  it.each([
    [undefined, 'not consulted'],
    [{ read: 'ok' as const }, 'every candidate healthy'],
    [{ read: 'unavailable' as const }, 'unavailable (fail open: every candidate counted healthy)'],
    [
      { read: 'ok' as const, panic: true as const },
      'panic: every candidate unhealthy, the first routed anyway',
    ],
    [{ read: 'ok' as const, healthIgnored: true as const }, 'ignored (explicit provider)'],
  ])('given health %j, then it reads "%s"', (health, text) => {
    expect(healthSummary(health)).toBe(text);
  });

  it('given an operator transition, then the actor is shown', () => {
    const record = healthChangedRecord(
      aTransition('fal', 2, { mode: 'forced_open', actor: 'ops@example.com', openUntil: null }),
    );
    const text = historyOf('health#fal', 'health#fal', record);
    expect(text).toContain('(ops@example.com)');
  });
});

describe('history shows revisions', () => {
  it('given a re-routed job, then the revision is listed with the failed dispatch and the new decision’s explanation', async () => {
    const { aRevisionRecord } = await import('../support/revisions.ts');
    const record = await aRevisionRecord('routed');
    const text = historyOf(record.metadata.jobId, record.metadata.stream, record);
    expect(text).toContain('RoutingRevised  revision 1 of v1: routed → replicate/wan-2.1-i2v');
    expect(text).toContain(`after fal/wan-i2v failed (dispatch ${record.metadata.jobId}:v1`);
    expect(text).toMatch(/already_tried/);
  });
});
