/**
 * Bounds on a submission's whole `detail`, apart from its schema (src/intake/submission.ts): the
 * routing log's record builders check them too, and they must not pull the schema library into
 * every function that builds or reads a record.
 */
import type { CanonicalJson } from './canonical-json.ts';

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

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
