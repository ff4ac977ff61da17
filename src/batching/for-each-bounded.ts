/**
 * Runs `work` over `items` with at most `limit` calls in flight. Every fan-out to AWS goes through
 * this: it keeps a large batch below the SDK's socket pool (50) and bounds the request bodies held
 * in memory at once.
 *
 * After one call fails no new item is started (as p-map does): the rest would most likely fail
 * the same way and only cost calls. The returned promise rejects with that first failure once the
 * calls already in flight have settled, so no work outlives it. A caller for whom one item's
 * failure must not stop its neighbours catches inside `work`.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
