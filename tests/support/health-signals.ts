/** Builders of provider.invoker signal events (EventBridge envelopes). */
import { randomUUID } from 'node:crypto';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { ATTEMPT_DETAIL_TYPE, SIGNAL_SOURCE, STATUS_DETAIL_TYPE } from '../../src/provider-health/signals.ts';
import { aSubmissionDetail, aSubmittedEvent } from './submissions.ts';

const T0 = Date.parse('2026-11-25T14:00:00.000Z');
export const atSecond = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

export function anAttemptEvent(
  detail: Record<string, unknown> = {},
  { id = randomUUID(), seconds = 0 }: { id?: string; seconds?: number } = {},
) {
  const jobId = (detail.jobId as string | undefined) ?? `job-${randomUUID()}`;
  return {
    version: '0',
    id,
    source: SIGNAL_SOURCE,
    'detail-type': ATTEMPT_DETAIL_TYPE,
    account: '123456789012',
    region: 'us-east-1',
    time: atSecond(seconds),
    resources: [],
    detail: {
      jobId,
      provider: 'fal',
      model: 'wan-i2v',
      dispatchId: `${jobId}:v1`,
      outcome: 'failed_terminal',
      errorClass: 'server_error',
      latencyMs: 900,
      ts: atSecond(seconds),
      ...detail,
    },
  };
}

/**
 * The start of a 30-s bucket two minutes ago: signals near it are recent. Dedupe markers and tally
 * items expire (TTL) a while after their event time and DynamoDB Local deletes expired items, so a
 * test that counts on DynamoDB Local must not use last month's fixed dates.
 */
export const RECENT_BUCKET = Math.floor(Date.now() / 30_000) * 30_000 - 120_000;

/** An attempt event `seconds` after RECENT_BUCKET. */
export function aRecentAttemptEvent(detail: Record<string, unknown>, seconds: number) {
  const event = anAttemptEvent(detail);
  const time = new Date(RECENT_BUCKET + seconds * 1000).toISOString();
  return { ...event, time, detail: { ...event.detail, ts: time } };
}

export function aStatusEvent(
  detail: Record<string, unknown>,
  { id = randomUUID(), seconds = 0 }: { id?: string; seconds?: number } = {},
) {
  return {
    version: '0',
    id,
    source: SIGNAL_SOURCE,
    'detail-type': STATUS_DETAIL_TYPE,
    time: atSecond(seconds),
    detail: { actor: 'ops@example.com', reason: 'provider incident', ...detail },
  };
}

/** Submits a short 720p job (overrides applied) through a router handler, as EventBridge would. */
export const submitterTo =
  (
    route: (
      event: never,
      context: never,
    ) => Promise<{ jobId: string | null; stream: string; provider: string | null }>,
  ) =>
  async (detail: Record<string, unknown>) =>
    route(
      aSubmittedEvent(aSubmissionDetail({ lengthSec: 8, resolution: '720p', ...detail })) as never,
      aLocalLambdaContext() as never,
    );
