/**
 * Which parts of a submission are decision facts and which are user content.
 *
 * Facts are what routing decided on — the job id and the routing inputs (length, resolution, tier,
 * requested provider, the audio feature flag). They stay in the immutable log forever, so anyone
 * can still ask why a job went where it went. Everything else — the user id, the prompt and any
 * extra field the frontend sent — is user content: it is sealed in the log record, retained for a
 * limited time in the content store and erasable per user (docs/DATA_PROTECTION.md).
 *
 * Pure: no I/O. `joinJob(splitJob(job))` gives back the job with the same fields and values.
 */
export type JsonObject = Record<string, unknown>;

/** The routing inputs: the only submission fields the log keeps in clear. */
export const FACT_FIELDS = ['jobId', 'lengthSec', 'resolution', 'tier', 'provider'] as const;

/** Longest string a raw (unvalidated) detail may contribute as a fact; longer is treated as content. */
export const MAX_RAW_FACT_LENGTH = 64;

export interface SplitJob {
  readonly facts: JsonObject;
  /** Null when the submission carried nothing but facts. */
  readonly content: JsonObject | null;
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Splits a validated job. `feature.audio` is a routing input; any other key of `feature` makes the
 * whole `feature` object content too (joinJob then restores it as sent).
 */
export function splitJob(job: JsonObject): SplitJob {
  const facts: JsonObject = {};
  const content: JsonObject = {};
  for (const [key, value] of Object.entries(job)) {
    if ((FACT_FIELDS as readonly string[]).includes(key)) facts[key] = value;
    else if (key === 'feature' && isObject(value)) {
      if (typeof value.audio === 'boolean') facts.feature = { audio: value.audio };
      if (Object.keys(value).some((k) => k !== 'audio')) content.feature = value;
    } else {
      // A data property, not an assignment: an extra field named `__proto__` is kept as sent
      // (assigning it would set the object's prototype and lose the field).
      Object.defineProperty(content, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return { facts, content: Object.keys(content).length > 0 ? content : null };
}

/**
 * Splits a raw detail that failed intake: only short scalar fact fields are kept in clear; the
 * whole detail is content (it may hold anything, including the prompt in the wrong field).
 */
export function splitRawDetail(detail: unknown): SplitJob {
  const facts: JsonObject = {};
  if (isObject(detail)) {
    for (const key of FACT_FIELDS) {
      const value = detail[key];
      if (
        (typeof value === 'string' && value.length <= MAX_RAW_FACT_LENGTH) ||
        (typeof value === 'number' && Number.isFinite(value)) ||
        typeof value === 'boolean'
      )
        facts[key] = value;
    }
  }
  return { facts, content: detail === undefined ? null : { detail } };
}

/** The job as submitted: facts, then content (content's `feature` restores extra feature keys). */
export function joinJob(facts: JsonObject, content: JsonObject | null): JsonObject {
  return { ...facts, ...(content ?? {}) };
}

/**
 * Stand-ins for the content fields intake requires, for re-evaluating logged routing facts
 * (what-if): routing never depends on them, and the real ones are sealed, expired or erased.
 */
export const CONTENT_STAND_INS: JsonObject = { userId: 'content-withheld', prompt: 'content withheld' };

/** What a logged record routed on, as a submission: its facts, with stand-ins when content is sealed. */
export function routingInputOf(record: { readonly job: string | null; readonly content?: unknown }): unknown {
  const job = JSON.parse(record.job ?? 'null') as unknown;
  return record.content !== undefined && isObject(job) ? { ...CONTENT_STAND_INS, ...job } : job;
}

/** The user id the content belongs to, when it names a usable one (the key of per-user erasure). */
export function userIdOf(content: JsonObject | null): string | null {
  const candidate = isObject(content?.detail) ? content.detail.userId : content?.userId;
  return typeof candidate === 'string' && candidate.length > 0 && candidate.length <= 256 ? candidate : null;
}
