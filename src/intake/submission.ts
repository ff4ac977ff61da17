/**
 * The inbound contract: an EventBridge `video.job.submitted` event from `frontend.api`.
 * This zod schema is the single source of the TypeScript types, the runtime validation and the
 * JSON Schema published in docs/EVENT_SCHEMA.md.
 */
import * as z from 'zod';
import { type CanonicalJson, canonicalJson } from './canonical-json.ts';
import type { RejectionReason } from './reason-codes.ts';

export const SUBMISSION_SOURCE = 'frontend.api';
export const SUBMISSION_DETAIL_TYPE = 'video.job.submitted';

export const PROVIDER_CHOICES = ['auto', 'fal', 'replicate'] as const;
export const RESOLUTIONS = ['480p', '720p', '1080p', '4k'] as const;

/** Longest clip the platform accepts at all; per-model limits live in the routing table. */
export const MAX_LENGTH_SEC = 600;
export const MAX_PROMPT_LENGTH = 4000;

/**
 * Bounds on the whole `detail`, checked before anything else reads it (docs/EVENT_SCHEMA.md).
 * Bytes: EventBridge caps an event at 256 KB, so no real submission is larger; the bound keeps the
 * log record (which copies the detail, as does a replay record) under DynamoDB's 400 KB item limit.
 * Depth: the job JSON travels to consumers that may store it as a DynamoDB document, which nests at
 * most 32 levels, and parse it with recursive parsers; a job's own fields use two.
 */
export const MAX_DETAIL_BYTES = 262_144;
export const MAX_DETAIL_DEPTH = 32;

/** Field errors for a detail outside the bounds above (empty when it is within them). */
export function detailBoundErrors(measured: CanonicalJson): FieldError[] {
  const errors: FieldError[] = [];
  if (measured.depth > MAX_DETAIL_DEPTH) {
    errors.push({ path: 'detail', message: `nested deeper than ${MAX_DETAIL_DEPTH} levels` });
  }
  if (measured.bytes > MAX_DETAIL_BYTES) {
    errors.push({ path: 'detail', message: `larger than ${MAX_DETAIL_BYTES} bytes of JSON` });
  }
  return errors;
}

const identifier = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@/-]+$/, 'only letters, digits and . _ : @ / -');

// Case and surrounding blanks are not meaningful for these enumerations ("720P" is 720p).
const normalised = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((value) => (typeof value === 'string' ? value.trim().toLowerCase() : value), z.enum(values));

export const jobSubmissionSchema = z.looseObject({
  jobId: identifier,
  userId: identifier,
  prompt: z.string().min(1).max(MAX_PROMPT_LENGTH),
  lengthSec: z.number().finite().positive().max(MAX_LENGTH_SEC),
  resolution: normalised(RESOLUTIONS),
  tier: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a lower-case word of at most 32 characters'),
  provider: normalised(PROVIDER_CHOICES).default('auto'),
  feature: z.looseObject({ audio: z.boolean().optional() }).optional(),
});

/** A validated `video.job.submitted` detail. Unknown extra fields are kept and forwarded. */
export type JobSubmission = z.output<typeof jobSubmissionSchema>;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];
export type Resolution = (typeof RESOLUTIONS)[number];

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export type IntakeResult =
  | { readonly ok: true; readonly submission: JobSubmission }
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

function usableJobId(detail: unknown): string | undefined {
  if (typeof detail !== 'object' || detail === null) return undefined;
  const parsed = identifier.safeParse((detail as { jobId?: unknown }).jobId);
  return parsed.success ? parsed.data : undefined;
}

/** At most this many field errors are reported (and recorded): enough to fix the event. */
const MAX_FIELD_ERRORS = 20;

/**
 * Validates an EventBridge event. Never throws, for any value: bad input becomes a typed
 * rejection. The bounds are checked first, without recursion, so nothing after them meets a
 * detail too deep or too large to handle.
 */
export function validateSubmission(event: SubmittedEvent): IntakeResult {
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
  const parsed = jobSubmissionSchema.safeParse(event.detail);
  if (parsed.success && fieldErrors.length === 0) return { ok: true, submission: parsed.data };

  const detailErrors = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        path: ['detail', ...issue.path.map(String)].join('.'),
        message: issue.message,
      }));
  const all = [...fieldErrors, ...detailErrors];
  const onlyProviderIsWrong = all.length > 0 && all.every((error) => error.path === 'detail.provider');
  const providerIsAString = typeof (event.detail as { provider?: unknown } | null)?.provider === 'string';
  return {
    ok: false,
    reason: onlyProviderIsWrong && providerIsAString ? 'unknown_provider' : 'invalid_request',
    fieldErrors: all.slice(0, MAX_FIELD_ERRORS),
    jobId: usableJobId(event.detail),
  };
}
