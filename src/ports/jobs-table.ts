/**
 * The Jobs table port (`Jobs-<Stage>`, of which the Routing Manager owns only the routing
 * attributes): read the items of a batch, then converge them — `superseded` when an item is
 * already converged or ahead. Adapter: src/aws/dynamodb-jobs-table.ts; in-memory twin:
 * src/memory/in-memory-jobs-table.ts. Both pass tests/support/projection-ports-contract.ts.
 */
import type { RejectionReason } from '../intake/reason-codes.ts';

export type JobStatusOutcome = 'applied' | 'superseded';

/** What the convergence rule needs of an existing Jobs item. */
export interface JobRouting {
  readonly status: string | null;
  readonly routingVersion: number | null;
  /**
   * The routing version a provider's status is about (`statusVersion`, written by the provider's
   * consumer beside its `status`; docs/CONSUMERS.md). Null when absent.
   */
  readonly statusVersion: number | null;
  /**
   * `routingDone`: the routing versions whose projection completed (status written after dispatch
   * and announcement succeeded) — the completion mark of those records (effect-completion.ts).
   */
  readonly done: readonly number[];
}

export type JobStatusResult =
  | { readonly ok: true; readonly outcome: JobStatusOutcome }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface JobsTable {
  /** The routing state of the jobs among `jobIds` that have an item (strongly consistent). */
  read(jobIds: readonly string[]): Promise<Map<string, JobRouting>>;
  /**
   * Converges every update, given what `read` found (`found`: an absent job has no item), in input
   * order per job; an applied update also adds its version to the item's `routingDone`. One result
   * per update, in input order; one entry's failure never fails its neighbours. Never throws.
   */
  write(
    updates: readonly PlannedJobStatus[],
    found: ReadonlyMap<string, JobRouting>,
  ): Promise<JobStatusResult[]>;
}

/** The attributes of `Jobs-<Stage>` this agent owns; absent ones are removed (the item converges). */
export interface PlannedJobStatus {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly provider: string | null;
  readonly model: string | null;
  readonly queue: string | null;
  readonly reason: RejectionReason | null;
  /** When the routing decision was made (also for rejections: the time the job left routing). */
  readonly routedAt: string;
  /** The log version that produced this projection; a lower one never overwrites a higher one. */
  readonly routingVersion: number;
}

/** `HELD`: every candidate was full, the job waits in the hold backlog (a first decision's or a re-routing's). */
export type JobStatus = 'ROUTED' | 'REJECTED' | 'HELD';
