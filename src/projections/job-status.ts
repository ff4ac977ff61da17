/**
 * Job status: converge `Jobs-<Stage>` to the routing outcome. Idempotent by condition, so it needs
 * no completion marker: the update applies only if the item carries no newer routing version and no
 * status another agent advanced past routing; otherwise the item is already converged (or ahead),
 * which is success — `superseded` — not a failure.
 */
import { forEachBounded } from '../async/for-each-bounded.ts';
import type { JobStatusOutcome, JobsTable } from '../ports/jobs-table.ts';
import type { PlannedJobStatus } from './effects.ts';
import { errorFacts } from './error-facts.ts';

/** Statuses the Routing Manager may overwrite: before routing, or its own. */
export const OVERWRITABLE_STATUSES = ['SUBMITTED', 'PENDING', 'ROUTED', 'REJECTED'] as const;

export type JobStatusResult =
  | { readonly ok: true; readonly outcome: JobStatusOutcome }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Concurrent UpdateItems per invocation: below the SDK's default socket pool (50). */
export const JOB_STATUS_CONCURRENCY = 16;

/** Projects every update (one UpdateItem each, at most 16 in flight); results in input order. */
export async function projectJobStatus(
  updates: readonly PlannedJobStatus[],
  jobs: JobsTable,
): Promise<JobStatusResult[]> {
  const results: JobStatusResult[] = new Array(updates.length);
  await forEachBounded(updates, JOB_STATUS_CONCURRENCY, async (update, index) => {
    try {
      results[index] = { ok: true, outcome: await jobs.projectStatus(update) };
    } catch (error) {
      results[index] = { ok: false, ...errorFacts(error) };
    }
  });
  return results;
}
