/**
 * What the HealthSignals function reads from its queue: each SQS message body is one EventBridge
 * event, as HealthSignalsRule delivered it (template.yaml). A body is read into a provider signal
 * (src/commands/handle-provider-signal.ts) or rejected with a machine-readable reason from a closed
 * set; the refusal names the fields at fault by path, never their values (the body is not ours to
 * quote). Pure: no I/O.
 */
import type { ProviderSignal } from '../commands/handle-provider-signal.ts';
import {
  ATTEMPT_DETAIL_TYPE,
  JOB_STARTED_DETAIL_TYPE,
  parseHealthSignal,
  parseJobStarted,
  SIGNAL_SOURCE,
  type SignalEvent,
  STATUS_DETAIL_TYPE,
} from '../provider-health/signals.ts';

/** Why a message is not a signal: a dashboard groups rejections by it. */
export const SIGNAL_REJECTIONS = [
  /** The body is not JSON. */
  'not_json',
  /** JSON, but not an EventBridge event (an object with a string `source` and `detail-type`). */
  'not_an_event',
  /** An event, but not one of the source and detail-types HealthSignalsRule sends. */
  'unsupported_event',
  /** A signal that fails its contract (docs/EVENT_SCHEMA.md): its id, time or detail. */
  'invalid_signal',
] as const;
export type SignalRejection = (typeof SIGNAL_REJECTIONS)[number];

/** The detail-types the function takes (HealthSignalsRule's pattern). */
export const SIGNAL_DETAIL_TYPES = [
  ATTEMPT_DETAIL_TYPE,
  STATUS_DETAIL_TYPE,
  JOB_STARTED_DETAIL_TYPE,
] as const;

export type SignalMessage =
  | { readonly ok: true; readonly event: SignalEvent; readonly signal: ProviderSignal }
  | {
      readonly ok: false;
      readonly reason: SignalRejection;
      /** Content-free: what is wrong, and the paths of the fields at fault. */
      readonly problem: string;
      readonly paths: readonly string[];
      /** The envelope's id when it looks like one (EventBridge's), else null: never free text. */
      readonly eventId: string | null;
    };

/** An id EventBridge (or a sender's outbox) would give: safe to log; anything else is not logged. */
const ID_LIKE = /^[A-Za-z0-9][A-Za-z0-9._:#-]{0,127}$/;
export const loggableEventId = (id: unknown): string | null =>
  typeof id === 'string' && ID_LIKE.test(id) ? id : null;

const reject = (
  reason: SignalRejection,
  problem: string,
  eventId: string | null,
  paths: readonly string[] = [],
): SignalMessage => ({ ok: false, reason, problem, paths, eventId });

/** Reads one message body; never throws, never quotes the body. */
export function readSignalMessage(body: string): SignalMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return reject('not_json', 'message body is not JSON', null);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject('not_an_event', 'message body is not an EventBridge event', null);
  }
  const event = parsed as Record<string, unknown> & SignalEvent;
  const eventId = loggableEventId(event.id);
  if (typeof event.source !== 'string' || typeof event['detail-type'] !== 'string') {
    return reject('not_an_event', 'message body is not an EventBridge event', eventId, [
      ...(typeof event.source === 'string' ? [] : ['source']),
      ...(typeof event['detail-type'] === 'string' ? [] : ['detail-type']),
    ]);
  }
  const detailType = event['detail-type'];
  if (event.source !== SIGNAL_SOURCE || !(SIGNAL_DETAIL_TYPES as readonly string[]).includes(detailType)) {
    return reject('unsupported_event', 'not a provider.invoker signal this function takes', eventId);
  }
  if (detailType === JOB_STARTED_DETAIL_TYPE) {
    const started = parseJobStarted(event);
    if (!started.ok) return reject('invalid_signal', started.problem, eventId, started.paths);
    return { ok: true, event, signal: { kind: 'started', started: started.started, eventTime: event.time } };
  }
  const health = parseHealthSignal(event);
  if (!health.ok) return reject('invalid_signal', health.problem, eventId, health.paths);
  return { ok: true, event, signal: { kind: 'health', signal: health.signal } };
}
