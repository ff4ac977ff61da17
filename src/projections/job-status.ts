/**
 * Job status: converge `Jobs-<Stage>` to the routing outcome. Idempotent by condition, so it needs
 * no completion marker: a write applies only if the item carries no newer routing version and no
 * status another agent advanced past routing; otherwise the item is already converged (or ahead),
 * which is success — `superseded` — not a failure.
 *
 * The projector reads the items of a batch first (one BatchGetItem per 100 jobs, beside the marker
 * read) and then writes them in batches (≤ 25 conditional statements per call): the read says which
 * jobs need an insert, an update or nothing at all; the write's own condition still guards against
 * whatever changed in between (docs/EXACTLY_ONCE.md#job-status).
 */
import type { JobRouting, PlannedJobStatus } from '../ports/jobs-table.ts';

/** Statuses the Routing Manager may overwrite: before routing, or its own. */
export const OVERWRITABLE_STATUSES = ['SUBMITTED', 'PENDING', 'ROUTED', 'REJECTED'] as const;

/** The write a planned status needs against the item as read: create it, update it, or none. */
export type JobWrite = 'insert' | 'update' | 'superseded';

/** The convergence rule, decided on the item as read (the write's condition re-checks it). */
export function jobWriteFor(update: PlannedJobStatus, current: JobRouting | undefined): JobWrite {
  if (!current) return 'insert';
  return mayOverwrite(update, current) ? 'update' : 'superseded';
}

/** Same version (a redelivery) rewrites identical values; a newer one or an advanced status wins. */
export function mayOverwrite(update: PlannedJobStatus, current: JobRouting): boolean {
  const versionAllows = current.routingVersion === null || current.routingVersion <= update.routingVersion;
  const statusAllows =
    current.status === null || (OVERWRITABLE_STATUSES as readonly string[]).includes(current.status);
  return versionAllows && statusAllows;
}

/**
 * The routing attributes an update writes: owned ones the outcome has not got are removed (null);
 * `routingDone` is `done` (the versions completed so far) with this update's version added.
 */
export function ownedAttributes(update: PlannedJobStatus, done: readonly number[]) {
  return {
    status: update.status,
    provider: update.provider,
    model: update.model,
    queue: update.queue,
    reason: update.reason,
    routedAt: update.routedAt,
    routingVersion: update.routingVersion,
    routingDone: new Set([...done, update.routingVersion]),
  };
}

/** The convergence facts of a stored item (anything else on it is the platform's). */
export function routingOf(item: Record<string, unknown>): JobRouting {
  const done =
    item.routingDone instanceof Set || Array.isArray(item.routingDone) ? [...item.routingDone] : [];
  return {
    status: typeof item.status === 'string' ? item.status : null,
    routingVersion: typeof item.routingVersion === 'number' ? item.routingVersion : null,
    done: done.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b),
  };
}
