/**
 * The job-status reader in memory, for unit tests: reads the items it was given. Passes the same
 * contract suite as the DynamoDB adapter.
 */
import type { JobProjection, JobStatusReader } from '../ports/job-status-reader.ts';

export class InMemoryJobStatusReader implements JobStatusReader {
  readonly #items: Map<string, JobProjection>;

  constructor(items: readonly JobProjection[] = []) {
    this.#items = new Map(items.map((item) => [item.jobId, structuredClone(item)]));
  }

  async read(jobId: string): Promise<JobProjection | null> {
    const item = this.#items.get(jobId);
    return item ? structuredClone(item) : null;
  }
}
