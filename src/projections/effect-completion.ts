/**
 * Where a record's completion is recorded. A record's Jobs status is written only after its
 * dispatch and announcement succeeded (src/projections/project-records.ts), under the record's own
 * routing version, and that write adds the version to the item's `routingDone` set; no other
 * record writes that version. So a Jobs item whose `routingDone` holds the record's version *is*
 * the record's completion mark — also after a newer version (a replay, a re-route) moved the item
 * on: every effect of it is done, and no marker item is written for it. The markers table keeps the rest — a record that did part of its
 * effects, one whose status was superseded (a newer version, a status a provider advanced), one
 * without a job (an invalid event, a provider-health announcement)
 * (docs/EXACTLY_ONCE.md#the-algorithm-per-batch-srcprojectionsproject-recordsts).
 */
import type { EffectMarker, EffectMarkers } from '../ports/effect-markers.ts';
import type { JobRouting, JobsTable } from '../ports/jobs-table.ts';

/** Whether the Jobs item, as read, carries the completion of the record projected at `version`. */
export const sealsRecord = (job: JobRouting | undefined, version: number): boolean =>
  job?.done.includes(version) === true;

/** The marker a sealing Jobs item stands for: every effect done (when is the Jobs item's business). */
export const sealedMarker = (effectId: string): EffectMarker => ({
  effectId,
  dispatched: true,
  dispatchedAt: null,
  announced: true,
  announcedAt: null,
  statusProjected: true,
  statusProjectedAt: null,
});

/** `job#<jobId>:v<version>` → its job and version; null for streams without a job. */
function jobRecordOf(effectId: string): { jobId: string; version: number } | null {
  const match = /^job#(.+):v(\d+)$/.exec(effectId);
  return match ? { jobId: match[1] as string, version: Number(match[2]) } : null;
}

/**
 * The completion of records as the projector records it, for readers other than the projector
 * (re-drive): the markers table, overridden by the Jobs item for the records it seals.
 */
export class RecordedCompletion implements Pick<EffectMarkers, 'read'> {
  readonly #markers: Pick<EffectMarkers, 'read'>;
  readonly #jobs: Pick<JobsTable, 'read'>;

  constructor(markers: Pick<EffectMarkers, 'read'>, jobs: Pick<JobsTable, 'read'>) {
    this.#markers = markers;
    this.#jobs = jobs;
  }

  async read(effectIds: readonly string[]): Promise<Map<string, EffectMarker>> {
    const records = effectIds.flatMap((effectId) => {
      const job = jobRecordOf(effectId);
      return job ? [{ effectId, ...job }] : [];
    });
    const [markers, jobs] = await Promise.all([
      this.#markers.read(effectIds),
      records.length > 0 ? this.#jobs.read([...new Set(records.map((r) => r.jobId))]) : new Map(),
    ]);
    for (const { effectId, jobId, version } of records) {
      // A seal says every effect is done, whatever an older partial marker says.
      if (sealsRecord(jobs.get(jobId), version)) {
        markers.set(effectId, sealedMarker(effectId));
      }
    }
    return markers;
  }
}
