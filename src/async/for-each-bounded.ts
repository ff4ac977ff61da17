/**
 * Runs `work` over `items` with at most `limit` calls in flight, resolving when all are done.
 * Every fan-out to AWS goes through this: it keeps a large batch below the SDK's socket pool (50)
 * and bounds the request bodies held in memory at once.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
