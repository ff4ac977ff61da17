/**
 * The Jobs table port (`Jobs-<Stage>`, of which the Routing Manager owns only the routing
 * attributes): one conditional update per projection, `superseded` when the item is already
 * converged or ahead. Adapter: src/aws/dynamodb-jobs-table.ts.
 */
import type { PlannedJobStatus } from '../projections/effects.ts';

export type JobStatusOutcome = 'applied' | 'superseded';

export interface JobsTable {
  projectStatus(update: PlannedJobStatus): Promise<JobStatusOutcome>;
}
