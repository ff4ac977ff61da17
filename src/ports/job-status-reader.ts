/**
 * The job-status reader port: a job's routing projection in `Jobs-<Stage>` (strongly consistent),
 * what the operator CLI shows beside a job's log and what `npm run local` reads back; null for a job
 * never projected. Adapter: src/aws/dynamodb-job-status-reader.ts; in-memory twin:
 * src/memory/in-memory-job-status-reader.ts. Both pass tests/support/job-status-reader-contract.ts.
 */

export interface JobProjection {
  readonly jobId: string;
  readonly status?: string;
  readonly provider?: string;
  readonly model?: string;
  readonly queue?: string;
  readonly reason?: string;
  readonly routedAt?: string;
  readonly routingVersion?: number;
  readonly [attribute: string]: unknown;
}

export interface JobStatusReader {
  read(jobId: string): Promise<JobProjection | null>;
}
