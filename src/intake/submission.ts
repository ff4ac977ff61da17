/**
 * The inbound contract: an EventBridge `video.job.submitted` event from `frontend.api`.
 * This zod schema is the single source of the TypeScript types, the runtime validation and the
 * JSON Schema published in docs/EVENT_SCHEMA.md. It is written with `zod/mini` (src/intake/schema.ts).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { canonicalJson } from './canonical-json.ts';
import { detailBoundErrors, type FieldError } from './detail-bounds.ts';
import type { RejectionReason } from './reason-codes.ts';
import { described } from './schema.ts';

export const SUBMISSION_SOURCE = 'frontend.api';
export const SUBMISSION_DETAIL_TYPE = 'video.job.submitted';

/** The `provider` value that asks the routing table to choose; any other names a provider. */
export const AUTO_PROVIDER = 'auto';
export const DEFAULT_TIER = 'standard';

export { detailBoundErrors, type FieldError, MAX_DETAIL_BYTES, MAX_DETAIL_DEPTH } from './detail-bounds.ts';

// jobId becomes the log's partition key, the FIFO MessageGroupId (at most 128 characters of
// ASCII letters, digits and punctuation) and an operator's CLI argument; userId keys Credits-<Stage>.
// Identifiers are taken exactly as sent — never trimmed or case-folded — so two different ids can
// never become one.
const identifier = z
  .string()
  .check(z.regex(/^[A-Za-z0-9._:@/-]{1,128}$/, '1 to 128 letters, digits or . _ : @ / - (no blanks)'));

// Names compared case-insensitively: the value is recorded and matched trimmed and lower-cased
// ("720P", " 720p " are 720p). The patterns admit the blanks, so the published schema agrees.
const caseInsensitiveName = (pattern: RegExp, message: string, description: string) =>
  described(z.pipe(z.string().check(z.regex(pattern, message)), z.transform(trimmedLowerCase)), description);

function trimmedLowerCase(value: string): string {
  return value.trim().toLowerCase();
}

export const jobSubmissionSchema = described(
  z.looseObject({
    jobId: described(identifier, 'taken exactly as sent (case-sensitive, not trimmed)'),
    userId: described(identifier, 'taken exactly as sent (case-sensitive, not trimmed)'),
    prompt: z.string().check(z.minLength(1)),
    lengthSec: described(
      z.number().check(z.positive()),
      'seconds; any positive number (the rules judge the range)',
    ),
    resolution: caseInsensitiveName(
      /^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,15}\s*$/,
      'a short name such as 720p: 1 to 16 letters, digits or . _ -',
      'e.g. 720p; matched trimmed and lower-cased; a resolution no rule lists gets no_route for auto',
    ),
    tier: z.optional(
      caseInsensitiveName(
        /^\s*[A-Za-z][A-Za-z0-9_-]{0,31}\s*$/,
        'a word of at most 32 letters, digits, _ or -, starting with a letter',
        `matched trimmed and lower-cased; absent: "${DEFAULT_TIER}" (recorded as defaulted)`,
      ),
    ),
    provider: z.optional(
      described(
        z.pipe(z.string(), z.transform(trimmedLowerCase)),
        `"${AUTO_PROVIDER}" (the default) or a provider of the routing table, matched trimmed and lower-cased; another name is unknown_provider`,
      ),
    ),
    feature: z.optional(z.looseObject({ audio: z.optional(z.boolean()) })),
  }),
  'Every other own field (any name, __proto__ included) is forwarded unchanged. Whole detail: at most 262144 bytes of JSON and 32 levels of nesting.',
);

const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(jobSubmissionSchema.shape));

/**
 * A validated `video.job.submitted` detail: the known fields normalised, defaults applied, and every
 * other own field of the detail kept as it came (forwarded to the provider).
 */
export interface JobSubmission {
  readonly jobId: string;
  readonly userId: string;
  readonly prompt: string;
  readonly lengthSec: number;
  readonly resolution: string;
  readonly tier: string;
  readonly provider: string;
  readonly feature?: { readonly audio?: boolean; readonly [extra: string]: unknown };
  readonly [extra: string]: unknown;
}

/** Fields the submission did not carry and intake filled with their default. */
export type DefaultedField = 'tier' | 'provider';

/** The routing table's side of intake: which providers exist (a RoutingTable is one). */
export interface ProviderCatalogue {
  readonly providers: Readonly<Record<string, unknown>>;
}

export type IntakeResult =
  | {
      readonly ok: true;
      readonly submission: JobSubmission;
      readonly defaulted: readonly DefaultedField[];
    }
  | {
      readonly ok: false;
      readonly reason: Extract<RejectionReason, 'invalid_request' | 'unknown_provider'>;
      readonly fieldErrors: readonly FieldError[];
      /** The jobId when the event carried a usable one, so the rejection is filed under the job. */
      readonly jobId: string | undefined;
    };

/** The parts of an EventBridge event the router reads. */
export interface SubmittedEvent {
  readonly id?: unknown;
  readonly source?: unknown;
  readonly 'detail-type'?: unknown;
  readonly time?: unknown;
  readonly detail?: unknown;
}

/** Any invocation payload as an event: null or undefined (a direct invocation) reads as `{}`. */
export const envelopeOf = (payload: unknown): SubmittedEvent =>
  typeof payload === 'object' && payload !== null ? (payload as SubmittedEvent) : {};

/**
 * The event's id, as the record keys it. EventBridge ids are UUIDs; a longer one (possible only from
 * a direct invocation) is replaced by its hash, so keys stay within DynamoDB's limits and stable
 * across redeliveries. Undefined when the event carries none.
 */
export function eventIdOf(event: SubmittedEvent): string | undefined {
  if (typeof event.id !== 'string' || event.id.length === 0) return undefined;
  return event.id.length <= 128 ? event.id : `sha256-${createHash('sha256').update(event.id).digest('hex')}`;
}

/** The event's `time` when it is a plausible timestamp string (EventBridge's always is). */
export const submittedAtOf = (event: SubmittedEvent): string | null =>
  typeof event.time === 'string' && event.time.length <= 64 ? event.time : null;

function usableJobId(detail: unknown): string | undefined {
  if (typeof detail !== 'object' || detail === null) return undefined;
  const parsed = identifier.safeParse((detail as { jobId?: unknown }).jobId);
  return parsed.success ? parsed.data : undefined;
}

/** At most this many field errors are reported (and recorded): enough to fix the event. */
const MAX_FIELD_ERRORS = 20;

// Own data properties only: assigning a key such as `__proto__` would set a prototype instead of
// keeping the field (zod's loose objects drop it for that reason). Nothing is ever merged into a
// shared object, so no prototype can be polluted.
function copyOwnFields(target: Record<string, unknown>, source: object, skip: ReadonlySet<string>) {
  for (const key of Object.keys(source)) {
    if (skip.has(key)) continue;
    Object.defineProperty(target, key, {
      value: (source as Record<string, unknown>)[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return target;
}

const FEATURE_FIELDS: ReadonlySet<string> = new Set(['audio']);

export type ParsedDetail =
  | { readonly ok: true; readonly submission: JobSubmission; readonly defaulted: readonly DefaultedField[] }
  | { readonly ok: false; readonly fieldErrors: readonly FieldError[] };

/**
 * The structural half of intake: the detail's fields against the schema, normalised, defaults
 * applied, extra fields kept. It does not know the routing table (validateSubmission checks the
 * provider against it) nor the bounds (checked before this runs).
 */
export function parseDetail(detail: unknown): ParsedDetail {
  const parsed = jobSubmissionSchema.safeParse(detail);
  if (!parsed.success) {
    return {
      ok: false,
      fieldErrors: parsed.error.issues.map((issue) => ({
        path: ['detail', ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    };
  }
  const known = parsed.data;
  const raw = detail as Record<string, unknown>;
  const defaulted: DefaultedField[] = [];
  if (known.tier === undefined) defaulted.push('tier');
  if (known.provider === undefined) defaulted.push('provider');
  const submission: Record<string, unknown> = {
    jobId: known.jobId,
    userId: known.userId,
    prompt: known.prompt,
    lengthSec: known.lengthSec,
    resolution: known.resolution,
    tier: known.tier ?? DEFAULT_TIER,
    provider: known.provider ?? AUTO_PROVIDER,
  };
  if (known.feature !== undefined) {
    const feature = copyOwnFields({}, raw.feature as object, FEATURE_FIELDS);
    submission.feature =
      known.feature.audio === undefined ? feature : { audio: known.feature.audio, ...feature };
  }
  copyOwnFields(submission, raw, KNOWN_FIELDS);
  return { ok: true, submission: submission as unknown as JobSubmission, defaulted };
}

/**
 * Validates an EventBridge event against the inbound contract and the providers of the routing
 * table in force. Never throws, for any value: bad input becomes a typed rejection. The bounds are
 * checked first, without recursion, so nothing after them meets a detail too deep or too large.
 *
 * `invalid_request` is for what is structurally unusable (docs/EVENT_SCHEMA.md); a well-formed
 * provider name the table does not know is `unknown_provider`; everything else is for the rules.
 */
export function validateSubmission(event: SubmittedEvent, catalogue: ProviderCatalogue): IntakeResult {
  const outOfBounds = detailBoundErrors(canonicalJson(event.detail));
  if (outOfBounds.length > 0) {
    return {
      ok: false,
      reason: 'invalid_request',
      fieldErrors: outOfBounds,
      jobId: usableJobId(event.detail),
    };
  }
  const fieldErrors: FieldError[] = [];
  if (event.source !== SUBMISSION_SOURCE) {
    fieldErrors.push({ path: 'source', message: `expected "${SUBMISSION_SOURCE}"` });
  }
  if (event['detail-type'] !== SUBMISSION_DETAIL_TYPE) {
    fieldErrors.push({ path: 'detail-type', message: `expected "${SUBMISSION_DETAIL_TYPE}"` });
  }
  const parsed = parseDetail(event.detail);
  if (!parsed.ok) fieldErrors.push(...parsed.fieldErrors);
  // Checked also when other fields are wrong, so the rejection names every problem at once.
  const requested = (event.detail as { provider?: unknown } | null | undefined)?.provider;
  const provider = typeof requested === 'string' ? requested.trim().toLowerCase() : undefined;
  const providerIsUnknown =
    provider !== undefined && provider !== AUTO_PROVIDER && !Object.hasOwn(catalogue.providers, provider);
  if (parsed.ok && !providerIsUnknown && fieldErrors.length === 0) return parsed;
  if (providerIsUnknown) {
    const known = [AUTO_PROVIDER, ...Object.keys(catalogue.providers)].join(', ');
    fieldErrors.push({ path: 'detail.provider', message: `not a provider of the routing table (${known})` });
  }
  const onlyProviderIsWrong = providerIsUnknown && fieldErrors.length === 1;
  return {
    ok: false,
    reason: onlyProviderIsWrong ? 'unknown_provider' : 'invalid_request',
    fieldErrors: fieldErrors.slice(0, MAX_FIELD_ERRORS),
    jobId: usableJobId(event.detail),
  };
}
