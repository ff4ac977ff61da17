import { describe, expect, it } from 'vitest';
import { healthSummary, renderHistory, streamOf } from '../../src/cli/commands/history.ts';
import { decisionRecord, healthChangedRecord } from '../../src/log/routing-records.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aJob } from '../support/jobs.ts';
import { aTransition } from '../support/provider-health-contract.ts';

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
      { eventId: 'e1', submittedAt: null, recordedAt: '2026-11-25T14:02:00.000Z', detail: job },
      job,
      decision,
    );
    const text = renderHistory(
      {
        jobId: job.jobId,
        stream: record.stream,
        records: [record],
        projection: null,
        content: { status: 'hidden' as const },
      },
      'Jobs-test',
    );
    expect(text).toContain('health ok');
    expect(text).toMatch(/provider_unhealthy: breaker fal#wan-i2v v7 open: breaker fal#wan-i2v v7/);
  });

  it('given a breaker stream, then each transition is listed with its cause', () => {
    const record = healthChangedRecord(aTransition('fal'));
    const text = renderHistory(
      {
        jobId: 'health#fal',
        stream: 'health#fal',
        records: [record],
        projection: null,
        content: { status: 'hidden' as const },
      },
      'Jobs-test',
    );
    expect(text).toContain('ProviderHealthChanged  closed → open (auto) until 2026-11-25T14:01:00.000Z');
    expect(text).toContain('consecutive_failures: 5 consecutive failures (server_error); caused by evt-5');
    expect(streamOf('health#fal')).toBe('health#fal');
  });

  it.each([
    [undefined, 'not consulted'],
    [{ read: 'unavailable' as const }, 'unavailable (fail open)'],
    [{ read: 'ok' as const, panic: true as const }, 'ok, panic: every candidate unhealthy'],
    [{ read: 'ok' as const, healthIgnored: true as const }, 'ok, ignored (explicit provider)'],
  ])('given health %j, then it reads "%s"', (health, text) => {
    expect(healthSummary(health)).toBe(text);
  });

  it('given an operator transition, then the actor is shown', () => {
    const record = healthChangedRecord(
      aTransition('fal', 2, { mode: 'forced_open', actor: 'ops@example.com', openUntil: null }),
    );
    const text = renderHistory(
      {
        jobId: 'health#fal',
        stream: 'health#fal',
        records: [record],
        projection: null,
        content: { status: 'hidden' as const },
      },
      'Jobs-test',
    );
    expect(text).toContain('(ops@example.com)');
  });
});
