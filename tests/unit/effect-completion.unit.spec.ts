import { describe, expect, it } from 'vitest';
import { InMemoryEffectMarkers } from '../../src/memory/in-memory-effect-markers.ts';
import { InMemoryJobsTable } from '../../src/memory/in-memory-jobs-table.ts';
import { RecordedCompletion, sealedMarker } from '../../src/projections/effect-completion.ts';
import { aMarker } from '../support/effect-markers-contract.ts';

describe('RecordedCompletion', () => {
  const partial = aMarker({ effectId: 'job#b:v1' });

  it('given a job whose item holds a version as done, when reading, then that record reads complete — over an older partial marker — and the others as their markers say', async () => {
    const markers = new InMemoryEffectMarkers();
    const jobs = new InMemoryJobsTable();
    jobs.items.set('a', { jobId: 'a', status: 'ROUTED', routingVersion: 2, routingDone: new Set([1, 2]) });
    jobs.items.set('b', { jobId: 'b', status: 'ROUTED', routingVersion: 1, routingDone: new Set([1]) });
    jobs.items.set('c:v9', { jobId: 'c:v9', status: 'SUBMITTED' });
    await markers.write([partial, { ...partial, effectId: 'event#e1:v1' }]);

    const read = await new RecordedCompletion(markers, jobs).read([
      'job#a:v1',
      'job#a:v3',
      'job#b:v1',
      'job#c:v9:v1',
      'event#e1:v1',
    ]);

    expect(read).toEqual(
      new Map([
        ['job#a:v1', sealedMarker('job#a:v1')],
        ['job#b:v1', sealedMarker('job#b:v1')],
        ['event#e1:v1', { ...partial, effectId: 'event#e1:v1' }],
      ]),
    );
  });

  it('given only records without a job, when reading, then the Jobs table is not read', async () => {
    const jobs = {
      read: async (): Promise<never> => {
        throw new Error('not expected');
      },
    };
    expect(await new RecordedCompletion(new InMemoryEffectMarkers(), jobs).read(['event#e1:v1'])).toEqual(
      new Map(),
    );
  });
});
