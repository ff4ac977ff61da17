/**
 * A provider invoker's direct path for its signals: `provider.job.started` and
 * `provider.attempt.completed` sent straight to HealthSignalsQueue with SQS SendMessageBatch, so they
 * spend none of the account's EventBridge quotas (docs/SCALE.md). Written from
 * docs/EVENT_SCHEMA.md#sending-signals-straight-to-healthsignalsqueue alone: it imports nothing from
 * the Routing Manager's src/, so it is what an invoker team copies; tests run it against the real
 * HealthSignals function on the emulators (tests/integration/direct-signals.int.spec.ts).
 *
 * - Each message body is exactly the event JSON HealthSignalsRule would deliver (`source`
 *   `provider.invoker`, `detail-type`, `id`, `time`, `detail`): the function reads both paths alike.
 * - A call takes at most 10 entries and 256 KiB of bodies; a body over 256 KiB (what EventBridge
 *   refuses too) is refused here, unsent.
 * - SendMessageBatch answers per entry: only the failed entries are sent again, with the same entry
 *   Id and the same body, so the same dedupe key (`dispatchId` + `attemptId`). A call without a usable
 *   answer (network, 5xx, throttled) is sent again whole: a copy SQS did take is counted once by the
 *   function, whose dedupe never reads the envelope or the message id.
 * - An entry SQS refused for its own fault (`SenderFault: true`) is not sent again: a resend cannot fix it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export const SIGNAL_SOURCE = 'provider.invoker';
/** A body's bound: EventBridge's entry limit, so this path takes no event the bus path would refuse. */
export const MAX_BODY_BYTES = 262_144;
/** SendMessageBatch: at most 10 entries a call… */
export const MAX_BATCH_ENTRIES = 10;
/** …and their bodies' sum at most 256 KiB (every region's limit; SQS has since raised it to 1 MiB). */
export const MAX_BATCH_BYTES = 262_144;

/** A signal as docs/EVENT_SCHEMA.md shows it: the EventBridge event, envelope and detail. */
export interface SignalEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly [field: string]: unknown;
}

export type SendResult =
  | {
      readonly index: number;
      readonly id: string;
      readonly status: 'sent';
      readonly messageId: string;
      readonly attempts: number;
    }
  | {
      readonly index: number;
      readonly id: string | null;
      readonly status: 'failed';
      /** SQS's error code, or `NotAProviderSignal` / `BodyTooLarge` for what was refused unsent. */
      readonly code: string;
      /** True when a later send may still succeed (the caller's own retry, e.g. its outbox). */
      readonly retryable: boolean;
      readonly attempts: number;
    };

export interface SendOptions {
  /** Rounds of sending, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Wait before round `attempt` + 1 (default 100 ms doubling, at most 2 s). */
  readonly backoffMs?: (attempt: number) => number;
}

/**
 * The message body: the event's JSON. SQS refuses U+FFFE and U+FFFF in a body (JSON.stringify
 * escapes every other character SQS refuses), so they go as JSON escapes: the same JSON value.
 */
export const messageBody = (event: SignalEvent): string =>
  JSON.stringify(event).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** What the function would refuse for certain: not an object with the envelope's fields, another source. */
function notASignal(event: unknown): boolean {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return true;
  const e = event as Record<string, unknown>;
  return (
    e.source !== SIGNAL_SOURCE ||
    typeof e.id !== 'string' ||
    e.id === '' ||
    typeof e['detail-type'] !== 'string' ||
    typeof e.time !== 'string'
  );
}

/** Throttled, a server fault, or no answer at all: the call may be sent again (a copy is counted once). */
function retryableCall(error: unknown): boolean {
  const e = error as { $retryable?: unknown; $fault?: unknown; name?: unknown; $metadata?: unknown };
  if (e?.$retryable) return true;
  if (e?.$fault === 'server') return true;
  if (
    typeof e?.name === 'string' &&
    /throttl|RequestThrottled|TooManyRequests|ServiceUnavailable/i.test(e.name)
  )
    return true;
  // No HTTP answer (connection reset, timeout): the SDK gives no $fault.
  return e?.$fault === undefined;
}

/** Greedy, order-keeping chunks of at most 10 entries and 256 KiB of bodies. */
function chunks(indexes: readonly number[], sizeOf: (index: number) => number): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let total = 0;
  for (const index of indexes) {
    const size = sizeOf(index);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && total + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      total = 0;
    }
    current.push(index);
    total += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Sends `events` to the queue; one result per event, in input order. Never throws for an entry's
 * fate: a caller keeps each `failed` one (with `retryable`) for its own later retry.
 */
export async function sendSignals(
  sqs: SQSClient,
  queueUrl: string,
  events: readonly unknown[],
  options: SendOptions = {},
): Promise<SendResult[]> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const backoffMs = options.backoffMs ?? ((attempt: number) => Math.min(2_000, 100 * 2 ** (attempt - 1)));
  const results: SendResult[] = new Array(events.length);
  const bodies: string[] = new Array(events.length);
  let pending: number[] = [];
  events.forEach((event, index) => {
    if (notASignal(event)) {
      const id = (event as { id?: unknown } | null)?.id;
      results[index] = {
        index,
        id: typeof id === 'string' ? id : null,
        status: 'failed',
        code: 'NotAProviderSignal',
        retryable: false,
        attempts: 0,
      };
      return;
    }
    const body = messageBody(event as SignalEvent);
    if (bytes(body) > MAX_BODY_BYTES) {
      results[index] = {
        index,
        id: (event as SignalEvent).id,
        status: 'failed',
        code: 'BodyTooLarge',
        retryable: false,
        attempts: 0,
      };
      return;
    }
    bodies[index] = body;
    pending.push(index);
  });
  const idOf = (index: number) => (events[index] as SignalEvent).id;

  for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(backoffMs(attempt - 1));
    const again: number[] = [];
    const failed = (index: number, code: string, retryable: boolean) => {
      results[index] = { index, id: idOf(index), status: 'failed', code, retryable, attempts: attempt };
      if (retryable) again.push(index);
    };
    for (const chunk of chunks(pending, (index) => bytes(bodies[index] as string))) {
      let answer: SendMessageBatchCommandOutput;
      try {
        answer = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            // The entry Id is the event's position: the same on every round, unique in a call.
            Entries: chunk.map((index) => ({ Id: String(index), MessageBody: bodies[index] as string })),
          }),
        );
      } catch (error) {
        const code = (error as { name?: unknown })?.name;
        for (const index of chunk)
          failed(index, typeof code === 'string' ? code : 'Error', retryableCall(error));
        continue;
      }
      const answered = new Set<number>();
      for (const ok of answer.Successful ?? []) {
        const index = Number(ok.Id);
        answered.add(index);
        results[index] = {
          index,
          id: idOf(index),
          status: 'sent',
          messageId: ok.MessageId ?? '',
          attempts: attempt,
        };
      }
      for (const refused of answer.Failed ?? []) {
        const index = Number(refused.Id);
        answered.add(index);
        failed(index, refused.Code ?? 'Failed', refused.SenderFault !== true);
      }
      // An entry in neither list has no answer: sent again, as a call without an answer is.
      for (const index of chunk) if (!answered.has(index)) failed(index, 'NoAnswer', true);
    }
    pending = again;
  }
  return results;
}
