/** Builders of provider.invoker signal events (EventBridge envelopes). */
import { randomUUID } from 'node:crypto';
import { ATTEMPT_DETAIL_TYPE, SIGNAL_SOURCE, STATUS_DETAIL_TYPE } from '../../src/provider-health/signals.ts';

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
