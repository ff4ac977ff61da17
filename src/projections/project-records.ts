/**
 * The projector's use case: turn a batch of routing-log records into their side effects, each
 * happening once as far as a consumer can observe. Per batch, in this order:
 *
 *   1. read the completion markers of every record (but those no delivery acted on before) and its
 *      Jobs item (BatchGetItem rounds);
 *   2. dispatch the routed jobs not yet dispatched (SendMessageBatch per queue, ≤ 10 and ≤ 1 MiB per call);
 *   3. announce the decisions not yet announced (PutEvents, ≤ 10 and < 256 KB per call);
 *   4. converge the Jobs status (≤ 25 conditional statements per BatchExecuteStatement, idempotent);
 *   5. write a marker per record that did something new and is not sealed by the Jobs write just
 *      applied (BatchWriteItem, ≤ 25 per call): a Jobs item at the record's version is the record's
 *      completion mark (src/projections/effect-completion.ts), so most records need no marker.
 *
 * A record that fails an effect goes no further in this invocation (its later effects wait for the
 * redelivery) and is reported failed; what it did complete is still marked, so the redelivery
 * skips it. The duplicate windows — an effect happened but its marker was not written, or a send got
 * no answer — repeat the effect with the same dispatch id / announcementId (docs/EXACTLY_ONCE.md).
 */

import type { EntryResult, RetryPolicy } from '../batching/partial-retry.ts';
import type { ProjectableRecord } from '../log/routing-records.ts';
import { errorFacts } from '../observability/error-facts.ts';
import type { Announcer } from '../ports/announcer.ts';
import type { EffectMarker, EffectMarkers } from '../ports/effect-markers.ts';
import type { JobRouting, JobStatusOutcome, JobStatusResult, JobsTable } from '../ports/jobs-table.ts';
import type { ProviderQueues } from '../ports/provider-queues.ts';
import { announceDecisions } from './announce.ts';
import { type DispatchDependencies, dispatchToProviderQueues } from './dispatch.ts';
import { sealedMarker, sealsRecord } from './effect-completion.ts';
import { type EffectPlan, type PlannedAnnouncement, planEffects } from './effects.ts';

export interface ProjectorPorts {
  readonly markers: EffectMarkers;
  readonly sender: ProviderQueues;
  readonly queueUrls: Readonly<Record<string, string>>;
  /** The provider queues' MaximumMessageSize (default DEFAULT_QUEUE_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  readonly publisher: Announcer;
  readonly jobs: JobsTable;
  readonly now: () => Date;
  readonly retry?: RetryPolicy;
}

export type EffectName = 'content' | 'plan' | 'markers' | 'dispatch' | 'announce' | 'status';

/**
 * done: performed by this invocation · skipped: a marker says it was done before ·
 * not_applicable: the record has no such effect · not_attempted: an earlier effect failed.
 */
export type EffectState = 'done' | 'skipped' | 'failed' | 'not_applicable' | 'not_attempted';

export interface RecordOutcome {
  readonly ok: boolean;
  readonly effectId: string | null;
  readonly stream: string;
  readonly version: number;
  readonly jobId: string | null;
  readonly effects: {
    readonly dispatch: EffectState;
    readonly announce: EffectState;
    readonly status: EffectState;
  };
  /** `superseded`: the Jobs item was already at this or a newer state (converged, not failed). */
  readonly statusOutcome: JobStatusOutcome | null;
  readonly failure: { readonly effect: EffectName; readonly code: string; readonly message: string } | null;
  /** False when a marker was due but could not be written (the duplicate window stays open). */
  readonly markerWritten: boolean;
}

interface Tracked {
  readonly record: ProjectableRecord;
  readonly plan: EffectPlan | null;
  previous: EffectMarker | undefined;
  dispatch: EffectState;
  announce: EffectState;
  status: EffectState;
  statusOutcome: JobStatusOutcome | null;
  failure: RecordOutcome['failure'];
  markerWritten: boolean;
}

const isLive = (t: Tracked): t is Tracked & { plan: EffectPlan } => t.plan !== null && t.failure === null;

function fail(t: Tracked, effect: EffectName, result: { code: string; message: string }) {
  t.failure = { effect, code: result.code, message: result.message };
  if (effect === 'dispatch' || effect === 'announce' || effect === 'status') t[effect] = 'failed';
}

export async function projectRecords(
  records: readonly ProjectableRecord[],
  ports: ProjectorPorts,
  /**
   * Records no earlier delivery can have acted on, so no completion marker of theirs can exist and
   * none is read: a fresh decision whose content this invocation was the first to retain
   * (content-retention.ts; every delivery retains a decision's content before any of its effects).
   */
  firstActedOn: ReadonlySet<ProjectableRecord> = new Set(),
): Promise<RecordOutcome[]> {
  const tracked = records.map(track);
  // A re-drive plans its target's effects under the target's effectId: when both are in one batch,
  // the first one projects and the other follows its outcome, so the effects happen once.
  const leaders = new Map<string, Tracked>();
  const followers: [Tracked, Tracked][] = [];
  for (const t of tracked.filter(isLive)) {
    const leader = leaders.get(t.plan.effectId);
    if (leader) followers.push([t, leader]);
    else leaders.set(t.plan.effectId, t);
  }
  const planned = [...leaders.values()].filter(isLive);
  const settled = () => {
    for (const [follower, leader] of followers) {
      const skipped = (state: EffectState): EffectState => (state === 'done' ? 'skipped' : state);
      follower.dispatch = skipped(leader.dispatch);
      follower.announce = skipped(leader.announce);
      follower.status = skipped(leader.status);
      follower.failure = leader.failure;
    }
    return tracked.map(outcomeOf);
  };

  // 1. Markers and Jobs items. Without them nothing can be done safely: the whole batch is retried.
  let markers = new Map<string, EffectMarker>();
  let jobItems = new Map<string, JobRouting>();
  if (planned.length > 0) {
    const jobIds = planned.flatMap((t) => (t.plan.jobStatus ? [t.plan.jobStatus.jobId] : []));
    const effectIds = planned.flatMap((t) => (firstActedOn.has(t.record) ? [] : [t.plan.effectId]));
    const [markersRead, jobsRead] = await Promise.allSettled([
      effectIds.length > 0 ? ports.markers.read(effectIds) : Promise.resolve(markers),
      jobIds.length > 0 ? ports.jobs.read(jobIds) : Promise.resolve(jobItems),
    ]);
    const failed =
      markersRead.status === 'rejected' ? markersRead : jobsRead.status === 'rejected' ? jobsRead : null;
    if (failed) {
      for (const t of planned)
        fail(t, failed === markersRead ? 'markers' : 'status', errorFacts(failed.reason));
      return settled();
    }
    markers = (markersRead as PromiseFulfilledResult<Map<string, EffectMarker>>).value;
    jobItems = (jobsRead as PromiseFulfilledResult<Map<string, JobRouting>>).value;
  }
  for (const t of planned) {
    const { jobStatus, effectId } = t.plan;
    const sealed = jobStatus !== null && sealsRecord(jobItems.get(jobStatus.jobId), jobStatus.routingVersion);
    // A seal says every effect is done, whatever an older partial marker says.
    t.previous = sealed ? sealedMarker(effectId) : markers.get(effectId);
    if (!t.plan.dispatch) t.dispatch = 'not_applicable';
    else if (t.previous?.dispatched) t.dispatch = 'skipped';
    if (!t.plan.announcement) t.announce = 'not_applicable';
    else if (t.previous?.announced) t.announce = 'skipped';
    if (!t.plan.jobStatus) t.status = 'not_applicable';
    else if (t.previous?.statusProjected) t.status = 'skipped';
  }

  // 2. Dispatch.
  const toDispatch = planned.filter((t) => t.dispatch === 'not_attempted');
  if (toDispatch.length > 0) {
    const dispatchDeps: DispatchDependencies = {
      sender: ports.sender,
      queueUrls: ports.queueUrls,
      ...(ports.maxMessageBytes ? { maxMessageBytes: ports.maxMessageBytes } : {}),
      ...(ports.retry ? { retry: ports.retry } : {}),
    };
    const sent = await dispatchToProviderQueues(
      toDispatch.map((t) => t.plan.dispatch as NonNullable<EffectPlan['dispatch']>),
      dispatchDeps,
    );
    // dispatchToProviderQueues answers for every dispatch id it was given.
    for (const t of toDispatch)
      settle(t, 'dispatch', sent.get(t.plan.dispatch?.dispatchId as string) as EntryResult);
  }

  // 3. Announce.
  const toAnnounce = planned.filter((t) => isLive(t) && t.announce === 'not_attempted');
  if (toAnnounce.length > 0) {
    const announced = await announceDecisions(
      toAnnounce.map((t) => t.plan.announcement as PlannedAnnouncement),
      { publisher: ports.publisher, ...(ports.retry ? { retry: ports.retry } : {}) },
    );
    for (const t of toAnnounce)
      settle(
        t,
        'announce',
        announced.get((t.plan.announcement as PlannedAnnouncement).detail.announcementId) as EntryResult,
      );
  }

  // 4. Job status.
  const toProject = planned.filter((t) => isLive(t) && t.status === 'not_attempted');
  const projected = await writeJobStatuses(
    toProject.map((t) => t.plan.jobStatus as NonNullable<EffectPlan['jobStatus']>),
    jobItems,
    ports.jobs,
  );
  toProject.forEach((t, i) => {
    const result = projected[i] as (typeof projected)[number];
    if (result.ok) {
      t.status = 'done';
      t.statusOutcome = result.outcome;
    } else fail(t, 'status', result);
  });

  // 5. Markers for whatever this invocation newly did — unless the Jobs write just applied carries it.
  const now = ports.now().toISOString();
  const due = planned.filter(
    (t) =>
      (t.dispatch === 'done' || t.announce === 'done' || t.status === 'done') &&
      !(t.status === 'done' && t.statusOutcome === 'applied'),
  );
  if (due.length > 0) {
    try {
      await ports.markers.write(due.map((t) => nextMarker(t, now)));
      for (const t of due) t.markerWritten = true;
    } catch {
      // The effects did happen: failing the records would only make their redelivery repeat them.
      // The records stay successful; the outcome says the duplicate window is open (logged, counted).
      for (const t of due) t.markerWritten = false;
    }
  }
  return settled();
}

/** The port answers per entry; anything it throws fails every entry it was given (as facts). */
async function writeJobStatuses(
  updates: readonly NonNullable<EffectPlan['jobStatus']>[],
  found: ReadonlyMap<string, JobRouting>,
  jobs: JobsTable,
): Promise<JobStatusResult[]> {
  if (updates.length === 0) return [];
  try {
    return await jobs.write(updates, found);
  } catch (error) {
    return updates.map(() => ({ ok: false, ...errorFacts(error) }));
  }
}

function track(record: ProjectableRecord): Tracked {
  const t: Tracked = {
    record,
    plan: null,
    previous: undefined,
    dispatch: 'not_attempted',
    announce: 'not_attempted',
    status: 'not_attempted',
    statusOutcome: null,
    failure: null,
    markerWritten: true,
  };
  try {
    return { ...t, plan: planEffects(record) };
  } catch (error) {
    // A record that passed recordFromItem but cannot be planned (e.g. a corrupt job JSON).
    fail(t, 'plan', errorFacts(error));
    return t;
  }
}

function settle(t: Tracked, effect: 'dispatch' | 'announce', result: EntryResult) {
  if (result.ok) t[effect] = 'done';
  else fail(t, effect, result);
}

function nextMarker(t: Tracked & { plan: EffectPlan }, now: string): EffectMarker {
  const before = t.previous;
  const flag = (state: EffectState, was: boolean | undefined, at: string | null | undefined) =>
    state === 'done' ? { done: true, at: now } : { done: was === true, at: at ?? null };
  const dispatch = flag(t.dispatch, before?.dispatched, before?.dispatchedAt);
  const announce = flag(t.announce, before?.announced, before?.announcedAt);
  const status = flag(t.status, before?.statusProjected, before?.statusProjectedAt);
  return {
    effectId: t.plan.effectId,
    dispatched: dispatch.done,
    dispatchedAt: dispatch.at,
    announced: announce.done,
    announcedAt: announce.at,
    statusProjected: status.done,
    statusProjectedAt: status.at,
  };
}

function outcomeOf(t: Tracked): RecordOutcome {
  return {
    ok: t.failure === null,
    effectId: t.plan?.effectId ?? null,
    stream: t.record.metadata.stream,
    version: t.record.metadata.version,
    jobId: t.plan?.jobId ?? t.record.metadata.jobId ?? null,
    effects: { dispatch: t.dispatch, announce: t.announce, status: t.status },
    statusOutcome: t.statusOutcome,
    failure: t.failure,
    markerWritten: t.markerWritten,
  };
}
