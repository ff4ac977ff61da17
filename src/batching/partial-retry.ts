/**
 * Batch APIs (SQS SendMessageBatch, EventBridge PutEvents) succeed or fail per entry: a call can
 * return 200 with some entries refused (throttling, an internal error), or be refused whole because
 * of one entry (too large, invalid characters). This sends entries in chunks that respect the API's
 * count **and** byte limits, computed from the serialised entries, and keeps every entry's fate its
 * own:
 *
 * - an entry refused on its own (per-entry result) is resent alone if the refusal is retryable;
 * - a call refused whole for a reason an entry can cause (a client fault) is split in halves and
 *   each half resent — down to single entries, so one bad entry fails alone (at most 2n − 1 calls
 *   for a chunk of n, n ≤ 10: the recursion is bounded by the chunk, never by user data);
 * - a call the service answered with throttling (it did nothing) is resent whole after a backoff,
 *   a bounded number of times;
 * - a call without a usable answer (network error, timeout, an internal server error) may or may
 *   not have happened: it is NOT resent here — its entries fail (retryable), the record is
 *   redelivered, and the redelivery's one resend carries the same ids (a stated duplicate window).
 *
 * The SDK clients of these two APIs run with maxAttempts 1 (src/aws/clients.ts): every resend is
 * this module's, counted and bounded here (docs/EXACTLY_ONCE.md#duplicate-windows).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { errorFacts } from '../observability/error-facts.ts';
import { CHUNKS_IN_FLIGHT, chunksWithin } from './chunks.ts';
import { forEachBounded } from './for-each-bounded.ts';

export interface EntryFailure {
  readonly code: string;
  readonly message: string;
  /** False for refusals a resend cannot fix (a malformed entry, a missing queue). */
  readonly retryable: boolean;
}

export type EntryResult = { readonly ok: true } | ({ readonly ok: false } & EntryFailure);

export interface RetryPolicy {
  /** Resends of refused entries after the first attempt. */
  readonly extraAttempts: number;
  /** Delay before resend `attempt` (1-based). */
  readonly backoffMs: (attempt: number) => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  extraAttempts: 3,
  backoffMs: (attempt) => 50 * 2 ** (attempt - 1),
};

/** What one call of a batch API accepts. */
export interface BatchLimits {
  readonly maxEntries: number;
  /** Sum of the entries' sizes (as the API counts them) allowed in one call. */
  readonly maxBatchBytes: number;
  /** Largest single entry the API accepts; a larger one fails alone, unsent. */
  readonly maxEntryBytes: number;
}

/** Sends one chunk; returns the refused entries by id (an absent id was accepted). */
export type ChunkSender<E> = (chunk: readonly E[]) => Promise<ReadonlyMap<string, EntryFailure>>;

export const ENTRY_TOO_LARGE = 'EntryTooLarge';

/**
 * split: refused whole, perhaps because of one entry · resend: refused unprocessed (throttled) ·
 * unknown: no usable answer, the call may have happened · permanent: nothing a resend can fix.
 */
type CallFailure = { kind: 'split' | 'resend' | 'unknown' | 'permanent'; facts: EntryFailure };

export async function sendWithPartialRetry<E extends { readonly id: string }>(
  entries: readonly E[],
  limits: BatchLimits,
  sizeOf: (entry: E) => number,
  send: ChunkSender<E>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<Map<string, EntryResult>> {
  const results = new Map<string, EntryResult>();
  let pending: E[] = [];
  for (const entry of entries) {
    const size = sizeOf(entry);
    if (size > limits.maxEntryBytes) {
      results.set(entry.id, {
        ok: false,
        code: ENTRY_TOO_LARGE,
        message: `entry of ${size} bytes exceeds the API's ${limits.maxEntryBytes}-byte limit`,
        retryable: false,
      });
    } else pending.push(entry);
  }

  // Sends a chunk; a refusal of the whole call an entry may have caused is bisected.
  const sendChunk = async (chunk: readonly E[], retry: E[]): Promise<void> => {
    let failures: ReadonlyMap<string, EntryFailure>;
    try {
      failures = await send(chunk);
    } catch (error) {
      const failure = classifyCallFailure(error);
      if (failure.kind === 'split' && chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        await sendChunk(chunk.slice(0, half), retry);
        await sendChunk(chunk.slice(half), retry);
        return;
      }
      for (const entry of chunk) results.set(entry.id, { ok: false, ...failure.facts });
      if (failure.kind === 'resend') retry.push(...chunk);
      return;
    }
    for (const entry of chunk) {
      const failure = failures.get(entry.id);
      if (!failure) results.set(entry.id, { ok: true });
      else {
        results.set(entry.id, { ok: false, ...failure });
        if (failure.retryable) retry.push(entry);
      }
    }
  };

  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await delay(policy.backoffMs(attempt));
    const retry: E[] = [];
    const chunks = chunksWithin(pending, limits.maxEntries, limits.maxBatchBytes, sizeOf);
    await forEachBounded(chunks, CHUNKS_IN_FLIGHT, (chunk) => sendChunk(chunk, retry));
    // Keep the input order for the next round (chunks finish in any order).
    const again = new Set(retry);
    pending = attempt < policy.extraAttempts ? pending.filter((entry) => again.has(entry)) : [];
  }
  return results;
}

/** Refusals of a whole call that no entry caused and a resend cannot fix. */
const NOT_ENTRY_CAUSED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'ResourceNotFoundException',
  'NotAuthorizedForSourceException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'KMS.AccessDeniedException',
  'KmsAccessDenied',
]);

const THROTTLING = /throttl|toomanyrequests|requestlimitexceeded|slowdown|limitexceeded|serviceunavailable/i;

function classifyCallFailure(error: unknown): CallFailure {
  const facts = errorFacts(error);
  const fault = (error as { $fault?: unknown } | null)?.$fault;
  // Throttled (a 4xx or 503 answer): the service did nothing with the call; resending is safe.
  if ((fault === 'client' || fault === 'server') && THROTTLING.test(facts.code)) {
    return { kind: 'resend', facts: { ...facts, retryable: true } };
  }
  if (fault === 'client') {
    if (NOT_ENTRY_CAUSED.has(facts.code)) return { kind: 'permanent', facts: { ...facts, retryable: false } };
    // Too long, invalid characters, a bad parameter: one entry may be the cause — isolate it.
    return { kind: 'split', facts: { ...facts, retryable: false } };
  }
  // No answer (network, timeout) or an internal server error: the call may have happened. The
  // record fails and is redelivered; resending here would only add copies (issue: up to 5 seen).
  return { kind: 'unknown', facts: { ...facts, retryable: true } };
}
