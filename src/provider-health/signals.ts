/**
 * The two health-signal contracts (docs/EVENT_SCHEMA.md), `source: provider.invoker`:
 *   - `provider.attempt.completed`: a provider consumer reports one attempt of one job;
 *   - `provider.status.changed`: an operator forces a breaker (or gives it back to `auto`).
 * Parsing never throws and never quotes the payload: a bad signal is a typed, content-free refusal.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
// English messages for zod/mini (src/intake/schema.ts).
import '../intake/schema.ts';
import { BREAKER_MODES } from '../log/health-records.ts';
import { ATTEMPT_OUTCOMES, breakerKey, type ChangeMode, type RecordAttempt } from './breaker.ts';

export const SIGNAL_SOURCE = 'provider.invoker';
export const ATTEMPT_DETAIL_TYPE = 'provider.attempt.completed';
export const STATUS_DETAIL_TYPE = 'provider.status.changed';
export const JOB_STARTED_DETAIL_TYPE = 'provider.job.started';

/** A duration or a charge a provider reports: finite, not negative, at most a week / a million dollars. */
const measured = (max: number) => z.number().check(z.nonnegative(), z.lte(max));
const WEEK_MS = 7 * 24 * 3600 * 1000;

const name = z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/));
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
const identifier = text(1, 256);

export const attemptCompletedSchema = z.looseObject({
  jobId: identifier,
  provider: name,
  model: z.nullish(name),
  /** `<jobId>:v<routingVersion>`, as in the provider-queue message. */
  dispatchId: identifier,
  outcome: z.enum(ATTEMPT_OUTCOMES),
  /** Why it failed: counted, the job's own, or unclassified (counted, alarmed): `errorClassKind` in ./breaker.ts. */
  errorClass: z.nullish(z.string().check(z.maxLength(64))),
  latencyMs: z.optional(z.number().check(z.nonnegative())),
  ts: z.optional(z.iso.datetime({ offset: true })),
  /** How long the provider ran the job (execution time, without its queue wait). */
  runMs: z.optional(measured(WEEK_MS)),
  /** What the provider charged for the attempt, when the consumer knows it (US dollars). */
  costUsd: z.optional(measured(1_000_000)),
  /**
   * The sender's id of this attempt (e.g. `<dispatchId>#<attempt number>`): the dedupe key with
   * the dispatchId. Absent: the key is the dispatchId and the outcome (one count per outcome).
   */
  attemptId: z.optional(identifier),
});

/** `provider.job.started`: the provider began running the job (it left the provider's own queue). */
export const jobStartedSchema = z.looseObject({
  jobId: identifier,
  provider: name,
  model: z.nullish(name),
  dispatchId: identifier,
  /** How long the job waited at the provider before it started (fal's IN_QUEUE time). */
  queueWaitMs: measured(WEEK_MS),
  ts: z.iso.datetime({ offset: true }),
});

export type JobStarted = z.output<typeof jobStartedSchema>;

export type JobStartedParseResult =
  | { readonly ok: true; readonly eventId: string; readonly started: JobStarted }
  | { readonly ok: false; readonly problem: string; readonly paths: readonly string[] };

/** Reads a `provider.job.started` event; never throws, never quotes the payload. */
export function parseJobStarted(event: SignalEvent): JobStartedParseResult {
  if (typeof event.id !== 'string' || event.id.length === 0) return refuse('event id missing');
  const parsed = jobStartedSchema.safeParse(event.detail);
  if (!parsed.success) return refuse('invalid job-started signal', pathsOf(parsed.error));
  return { ok: true, eventId: event.id, started: parsed.data };
}

export const statusChangedSchema = z.looseObject({
  provider: name,
  model: z.nullish(name),
  state: z.enum(BREAKER_MODES),
  actor: text(1, 256),
  reason: text(1, 1024),
});

export type AttemptCompleted = z.output<typeof attemptCompletedSchema>;

/** The parts of an EventBridge event the health-signal handler reads. */
export interface SignalEvent {
  readonly id?: unknown;
  readonly 'detail-type'?: unknown;
  readonly time?: unknown;
  readonly detail?: unknown;
}

export interface HealthSignal {
  readonly provider: string;
  readonly model: string | null;
  readonly key: string;
  readonly command: RecordAttempt | ChangeMode;
  /** Attempt signals only: what re-routing needs. */
  readonly attempt: AttemptCompleted | null;
}

export type SignalParseResult =
  | { readonly ok: true; readonly signal: HealthSignal }
  | { readonly ok: false; readonly problem: string; readonly paths: readonly string[] };

const refuse = (
  problem: string,
  paths: readonly string[] = [],
): { ok: false; problem: string; paths: readonly string[] } => ({
  ok: false,
  problem,
  paths,
});

/**
 * The dedupe key of an attempt report: derived from what the **sender** controls — the dispatchId
 * and its `attemptId`, or without one the dispatchId and the outcome — never from the EventBridge
 * envelope id, which PutEvents assigns anew to every (re-)publication. So an SDK retry, an outbox
 * that publishes twice or a DLQ redrive of the same report counts once.
 */
export function attemptKeyOf(
  attempt: Pick<AttemptCompleted, 'dispatchId' | 'outcome' | 'attemptId'>,
): string {
  const facts = JSON.stringify(
    attempt.attemptId === undefined
      ? [attempt.dispatchId, attempt.outcome]
      : [attempt.dispatchId, '#', attempt.attemptId],
  );
  return `attempt-${createHash('sha256').update(facts).digest('hex').slice(0, 32)}`;
}

/**
 * Reads a signal event into a breaker command. The command's time is the event's own `time`
 * (stable across redeliveries, so a replay counts it in the same window bucket).
 */
export function parseHealthSignal(event: SignalEvent): SignalParseResult {
  if (typeof event.id !== 'string' || event.id.length === 0) return refuse('event id missing', ['id']);
  if (typeof event.time !== 'string' || Number.isNaN(Date.parse(event.time))) {
    return refuse('event time missing or not a date-time', ['time']);
  }
  const at = new Date(Date.parse(event.time)).toISOString();
  if (event['detail-type'] === ATTEMPT_DETAIL_TYPE) {
    const parsed = attemptCompletedSchema.safeParse(event.detail);
    if (!parsed.success) return refuse('invalid attempt signal', pathsOf(parsed.error));
    const a = parsed.data;
    const model = a.model ?? null;
    return {
      ok: true,
      signal: {
        provider: a.provider,
        model,
        key: breakerKey(a.provider, model),
        attempt: a,
        command: {
          type: 'RecordAttempt',
          signalId: attemptKeyOf(a),
          at,
          outcome: a.outcome,
          errorClass: a.errorClass ?? null,
          dispatchId: a.dispatchId,
        },
      },
    };
  }
  if (event['detail-type'] === STATUS_DETAIL_TYPE) {
    const parsed = statusChangedSchema.safeParse(event.detail);
    if (!parsed.success) return refuse('invalid status signal', pathsOf(parsed.error));
    const s = parsed.data;
    const model = s.model ?? null;
    return {
      ok: true,
      signal: {
        provider: s.provider,
        model,
        key: breakerKey(s.provider, model),
        attempt: null,
        command: {
          type: 'ChangeMode',
          signalId: event.id,
          at,
          mode: s.state,
          actor: s.actor,
          reason: s.reason,
        },
      },
    };
  }
  return refuse('unsupported detail-type');
}

// Paths only: zod messages may quote the offending value, which is someone's payload.
const pathsOf = (error: z.core.$ZodError): string[] =>
  error.issues.map((issue) => issue.path.join('.') || '(detail)');
