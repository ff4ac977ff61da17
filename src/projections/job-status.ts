/**
 * Job status: converge `Jobs-<Stage>` to the routing outcome. Idempotent by condition, so it needs
 * no completion marker: the routing attributes apply only if the item carries no newer routing
 * version (otherwise it is already converged or ahead — `superseded`, a success); the status only
 * if no provider has spoken about this dispatch or a newer one (the ownership split of
 * docs/CONSUMERS.md: a re-route moves the item even after the old dispatch's RUNNING).
 *
 * The projector reads the items of a batch first (one BatchGetItem per 100 jobs, beside the marker
 * read) and then writes them in batches (≤ 25 conditional statements per call): the read says which
 * jobs need an insert, an update or nothing at all; the write's own condition still guards against
 * whatever changed in between (docs/EXACTLY_ONCE.md#job-status).
 */
import type { JobRouting, PlannedJobStatus } from '../ports/jobs-table.ts';

/** Statuses the Routing Manager may overwrite: before routing, or its own. */
export const OVERWRITABLE_STATUSES = ['SUBMITTED', 'PENDING', 'ROUTED', 'REJECTED', 'HELD'] as const;

/**
 * The write a planned status needs against the item as read: create it, update its routing
 * attributes and its status, update its routing attributes only (a provider's status of this or a
 * newer dispatch stays), or none (the item holds a newer routing version).
 */
export type JobWrite = 'insert' | 'update' | 'updateRouting' | 'superseded';

/** The convergence rule, decided on the item as read (the write's condition re-checks it). */
export function jobWriteFor(update: PlannedJobStatus, current: JobRouting | undefined): JobWrite {
  if (!current) return 'insert';
  if (!versionAllows(update, current)) return 'superseded';
  return statusAllows(update, current) ? 'update' : 'updateRouting';
}

/**
 * The routing attributes (provider, model, queue, reason, routedAt, routingVersion, routingDone)
 * move forward only: a redelivery of the same version rewrites identical values, an older record
 * never regresses the item. A provider's status does not stop them: a re-route must move the job
 * even after its previous dispatch's consumer wrote RUNNING.
 */
export const versionAllows = (update: PlannedJobStatus, current: JobRouting): boolean =>
  current.routingVersion === null || current.routingVersion <= update.routingVersion;

/**
 * The Routing Manager writes `status` only over a status of its own (or before routing), or over a
 * provider's status about an **older** dispatch than the one written: `statusVersion`, or without
 * it the item's routing version when the provider wrote (version 1 if it had none).
 */
export function statusAllows(update: PlannedJobStatus, current: JobRouting): boolean {
  if (current.status === null || (OVERWRITABLE_STATUSES as readonly string[]).includes(current.status))
    return true;
  return (current.statusVersion ?? current.routingVersion ?? 1) < update.routingVersion;
}

/**
 * The routing attributes an update writes: owned ones the outcome has not got are removed (null);
 * `routingDone` is `done` (the versions completed so far) with this update's version added;
 * `status` only when `withStatus` (a provider's status of this dispatch or a newer one stays).
 */
export function ownedAttributes(update: PlannedJobStatus, done: readonly number[], withStatus = true) {
  return {
    ...(withStatus ? { status: update.status } : {}),
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
    statusVersion: typeof item.statusVersion === 'number' ? item.statusVersion : null,
    done: done.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b),
  };
}
