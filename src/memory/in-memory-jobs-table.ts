/** The Jobs table in memory: the same rule as the DynamoDB conditions, for tests and local runs. */
import type { JobRouting, JobStatusResult, JobsTable, PlannedJobStatus } from '../ports/jobs-table.ts';
import { jobWriteFor, ownedAttributes, routingOf } from '../projections/job-status.ts';

export class InMemoryJobsTable implements JobsTable {
  readonly items = new Map<string, Record<string, unknown>>();

  async read(jobIds: readonly string[]): Promise<Map<string, JobRouting>> {
    const found = new Map<string, JobRouting>();
    for (const jobId of jobIds) {
      const item = this.items.get(jobId);
      if (item) found.set(jobId, routingOf(item));
    }
    return found;
  }

  async write(updates: readonly PlannedJobStatus[]): Promise<JobStatusResult[]> {
    // The state as it is now, not as read: the in-memory table has no window between the two.
    return updates.map((update) => {
      const item = this.items.get(update.jobId);
      const current = item ? routingOf(item) : undefined;
      const write = jobWriteFor(update, current);
      if (write === 'superseded') return { ok: true, outcome: 'superseded' };
      const next: Record<string, unknown> = { ...item, jobId: update.jobId };
      const owned = ownedAttributes(update, current?.done ?? [], write !== 'updateRouting');
      for (const [name, value] of Object.entries(owned)) {
        if (value === null) delete next[name];
        else next[name] = value;
      }
      this.items.set(update.jobId, next);
      return { ok: true, outcome: 'applied' };
    });
  }
}
