/**
 * Batch APIs (SQS SendMessageBatch, EventBridge PutEvents) succeed or fail per entry: a call can
 * return 200 with some entries refused (throttling, an internal error). This sends entries in
 * chunks of the API's limit and resends only the refused, retryable entries — a bounded number of
 * times, with a short backoff — so one refused entry never repeats its neighbours' effects.
 * A call that throws (the SDK's own retries exhausted) fails its whole chunk, unretried here: the
 * record-level retry (Lambda redelivery) takes over.
 */
import { forEachBounded } from '../async/for-each-bounded.ts';
import { pause } from '../async/pause.ts';
import { errorFacts } from './error-facts.ts';

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
  extraAttempts: 2,
  backoffMs: (attempt) => 50 * 2 ** (attempt - 1),
};

/** Chunk calls in flight at once: a 1,000-record batch must not open 100 requests together. */
export const CHUNKS_IN_FLIGHT = 10;

/** Sends one chunk; returns the refused entries by id (an absent id was accepted). */
export type ChunkSender<E> = (chunk: readonly E[]) => Promise<ReadonlyMap<string, EntryFailure>>;

export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export async function sendWithPartialRetry<E extends { readonly id: string }>(
  entries: readonly E[],
  chunkSize: number,
  send: ChunkSender<E>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<Map<string, EntryResult>> {
  const results = new Map<string, EntryResult>();
  let pending = [...entries];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await pause(policy.backoffMs(attempt));
    const refused: E[] = [];
    await forEachBounded(chunksOf(pending, chunkSize), CHUNKS_IN_FLIGHT, async (chunk) => {
      let failures: ReadonlyMap<string, EntryFailure>;
      try {
        failures = await send(chunk);
      } catch (error) {
        const failure = callFailure(error);
        for (const entry of chunk) results.set(entry.id, { ok: false, ...failure });
        return;
      }
      for (const entry of chunk) {
        const failure = failures.get(entry.id);
        if (!failure) results.set(entry.id, { ok: true });
        else {
          results.set(entry.id, { ok: false, ...failure });
          if (failure.retryable) refused.push(entry);
        }
      }
    });
    pending = attempt < policy.extraAttempts ? refused : [];
  }
  return results;
}

function callFailure(error: unknown): EntryFailure {
  return { ...errorFacts(error), retryable: false };
}
