/** Builders of provider.invoker signal events (EventBridge envelopes). */
import { randomUUID } from 'node:crypto';
import {
  createHealthSignalsHandler,
  type HealthSignalsResponse,
  type SignalItemResult,
} from '../../src/handlers/health-signals.ts';
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

/** SQS records as the HealthSignals function's event source delivers them: each body one event. */
export function anSqsEventOf(bodies: readonly (string | Record<string, unknown>)[], ids?: readonly string[]) {
  return {
    Records: bodies.map((body, index) => ({
      messageId: ids?.[index] ?? `msg-${index}-${randomUUID()}`,
      receiptHandle: `rh-${index}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:RoutingHealthSignals-test',
      awsRegion: 'us-east-1',
    })),
  };
}

/**
 * The HealthSignals function as the tests drive it one signal at a time: each event goes through the
 * deployed path (an SQS batch of one, its body the EventBridge event) and the call answers what the
 * signal changed — or throws, as the event source would deliver it again, when its handling failed.
 */
export function aSignalFunction(
  deps: Parameters<typeof createHealthSignalsHandler>[0],
  telemetry: Parameters<typeof createHealthSignalsHandler>[1],
) {
  // By message id: calls may run at once (each is its own batch, as concurrent invocations are).
  const items = new Map<string, SignalItemResult>();
  const handler = createHealthSignalsHandler(deps, telemetry, { onItem: (item) => items.set(item.id, item) });
  return async (event: unknown, _context?: unknown): Promise<HealthSignalsResponse> => {
    const messageId = randomUUID();
    const { batchItemFailures } = await handler(
      anSqsEventOf([event as Record<string, unknown>], [messageId]) as never,
      aLocalLambdaContext() as never,
    );
    const item = items.get(messageId);
    items.delete(messageId);
    if (!item || batchItemFailures.length > 0 || item.kind === 'failed') {
      throw new Error(`signal not handled: ${item?.kind === 'failed' ? item.failure.code : 'no result'}`);
    }
    if (item.kind === 'rejected') {
      const where = item.paths.length > 0 ? `: ${item.paths.join(', ')}` : '';
      return { outcome: 'refused', problem: `${item.problem}${where}` };
    }
    return item.response;
  };
}
