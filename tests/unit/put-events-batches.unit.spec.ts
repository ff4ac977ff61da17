import { describe, expect, it } from 'vitest';
import {
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
  putEventsEntryBytes,
} from '../../src/batching/aws-batch-limits.ts';
import { putEventsBatches } from '../../src/intake/put-events-batches.ts';

const anEntry = (detailBytes: number, id = 0) => ({
  id,
  source: 'frontend.api',
  detailType: 'video.job.submitted',
  detail: 'x'.repeat(detailBytes),
});
/** The bytes an entry's source and detail-type add to its detail. */
const OVERHEAD = putEventsEntryBytes(anEntry(0));

describe('PutEvents batches', () => {
  it('given an entry, then its size counts the UTF-8 bytes of source, detail-type and detail', () => {
    expect(OVERHEAD).toBe('frontend.api'.length + 'video.job.submitted'.length);
    expect(putEventsEntryBytes({ ...anEntry(0), detail: '{"prompt":"é€"}' })).toBe(OVERHEAD + 18);
  });

  it('given 23 small entries, then they go in batches of 10, 10 and 3, in order', () => {
    const entries = Array.from({ length: 23 }, (_, i) => anEntry(10, i));
    const { batches, tooLarge } = putEventsBatches(entries);
    expect(batches.map((batch) => batch.length)).toEqual([PUT_EVENTS_MAX_ENTRIES, 10, 3]);
    expect(batches.flat().map((entry) => entry.id)).toEqual(entries.map((entry) => entry.id));
    expect(tooLarge).toEqual([]);
  });

  it('given entries of 100 KB, then no batch exceeds 256 KB', () => {
    const entries = Array.from({ length: 5 }, (_, i) => anEntry(100 * 1024, i));
    const { batches } = putEventsBatches(entries);
    expect(batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
    for (const batch of batches) {
      expect(batch.reduce((sum, entry) => sum + putEventsEntryBytes(entry), 0)).toBeLessThanOrEqual(
        PUT_EVENTS_MAX_BYTES,
      );
    }
  });

  it('given an entry of exactly 256 KB, then it goes alone', () => {
    const exact = anEntry(PUT_EVENTS_MAX_BYTES - OVERHEAD, 1);
    const { batches } = putEventsBatches([anEntry(1, 0), exact, anEntry(1, 2)]);
    expect(batches.map((batch) => batch.map((entry) => entry.id))).toEqual([[0], [1], [2]]);
  });

  it('given an entry larger than a whole call, then it is set aside with its size and its neighbours still batch', () => {
    const huge = anEntry(PUT_EVENTS_MAX_BYTES, 1);
    const { batches, tooLarge } = putEventsBatches([anEntry(1, 0), huge, anEntry(1, 2)]);
    expect(batches.map((batch) => batch.map((entry) => entry.id))).toEqual([[0, 2]]);
    expect(tooLarge).toEqual([{ entry: huge, bytes: PUT_EVENTS_MAX_BYTES + OVERHEAD }]);
  });

  it('given no entries, then there is no batch', () => {
    expect(putEventsBatches([])).toEqual({ batches: [], tooLarge: [] });
  });
});
