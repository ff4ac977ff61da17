/**
 * Splitting a batch into the calls an AWS batch API accepts: by count (`chunksOf`) or by count and
 * bytes together (`chunksWithin`), with sizes counted as AWS counts payload bytes (`utf8Bytes`).
 * Every batch writer (SQS, EventBridge, DynamoDB, the CLI's PutEvents) chunks through here.
 */

/** Chunk calls in flight at once: a 1,000-record batch must not open 100 requests together. */
export const CHUNKS_IN_FLIGHT = 10;

export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Greedy, order-preserving chunks of at most `maxEntries` entries and `maxBatchBytes` bytes.
 * Every entry must fit alone (callers set oversized entries aside first).
 */
export function chunksWithin<T>(
  items: readonly T[],
  maxEntries: number,
  maxBatchBytes: number,
  sizeOf: (item: T) => number,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxEntries || bytes + size > maxBatchBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** UTF-8 size of a string, as AWS counts payload bytes. */
export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
