/**
 * Provider signals in `npm run local`'s input files: attempt reports and status changes, taken in
 * file order between submissions. Pure: which inputs are signals, how the inputs split into steps
 * that are each projected before the next, and what a signal changed (its result row).
 */
import type { ReviseRoutingResult } from '../commands/revise-routing.ts';
import type { HealthSignalsResponse } from '../handlers/health-signals.ts';
import { dispatchIdOf } from '../projections/effects.ts';
import {
  ATTEMPT_DETAIL_TYPE,
  JOB_STARTED_DETAIL_TYPE,
  SIGNAL_SOURCE,
  STATUS_DETAIL_TYPE,
} from '../provider-health/signals.ts';

/** True for an envelope the HealthSignals function takes (the template's HealthSignalsRule). */
export const isSignalEvent = (event: Readonly<Record<string, unknown>>): boolean =>
  event.source === SIGNAL_SOURCE &&
  (event['detail-type'] === ATTEMPT_DETAIL_TYPE ||
    event['detail-type'] === STATUS_DETAIL_TYPE ||
    event['detail-type'] === JOB_STARTED_DETAIL_TYPE);

/** A run of consecutive submissions (routed together), or one signal: projected before the next step. */
export interface InputStep {
  readonly kind: 'submissions' | 'signal';
  /** Indexes into the inputs, in file order. */
  readonly indexes: readonly number[];
}

export function stepsOf(
  inputs: readonly { readonly event: Readonly<Record<string, unknown>> }[],
): InputStep[] {
  const steps: InputStep[] = [];
  for (const [index, input] of inputs.entries()) {
    const last = steps.at(-1);
    if (isSignalEvent(input.event)) steps.push({ kind: 'signal', indexes: [index] });
    else if (last?.kind === 'submissions') (last.indexes as number[]).push(index);
    else steps.push({ kind: 'submissions', indexes: [index] });
  }
  return steps;
}

export interface HealthChange {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly reason: string;
}

export interface RevisionChange {
  readonly jobId: string;
  /** The job's log stream (its announcements' ids start with `<stream>:v<version>`). */
  readonly stream: string;
  /** The job's routing version now (the dispatch's `:v<version>`). */
  readonly version: number;
  readonly dispatchId: string;
  readonly provider: string | null;
  readonly model: string | null;
  readonly queue: string | null;
  /** Set when the revision rejected the job instead of re-routing it. */
  readonly reason: string | null;
  /** True when an earlier signal already made this revision. */
  readonly already: boolean;
  /** Set when every candidate left was full: the job is held for these providers (a RoutingDeferred). */
  readonly heldFor: readonly string[] | null;
}

/** What one signal changed: breaker transitions, the job's revision, or nothing (`summary: no change`). */
export interface SignalChange {
  readonly health: readonly HealthChange[];
  readonly revision: RevisionChange | null;
  readonly summary: string;
}

export function signalChangeOf(response: HealthSignalsResponse): SignalChange {
  if (response.outcome === 'refused') return { health: [], revision: null, summary: 'no change (refused)' };
  if (response.outcome === 'observed')
    return {
      health: [],
      revision: null,
      summary: `${response.provider} started the job after ${response.queueWaitMs} ms in its queue`,
    };
  const health =
    response.outcome === 'recorded'
      ? response.transitions.map((t) => ({
          key: t.key,
          from: t.previousStatus,
          to: t.status,
          version: t.version,
          reason: t.reason,
        }))
      : [];
  const revised = response.revision;
  const revision: RevisionChange | null =
    revised === undefined || revised.outcome === 'ignored' ? null : revisionChangeOf(revised);
  const parts = [
    ...(response.slotReleased ? [`${response.slotReleased} slot released`] : []),
    ...health.map((h) => `health ${h.key} ${h.from} → ${h.to} (v${h.version})`),
    ...(revision
      ? [`job v${revision.version} ${revisionText(revision)}${revision.already ? ' (already)' : ''}`]
      : []),
  ];
  if (response.verdict?.outcome === 'recorded') parts.push(`job done: ${response.verdict.record.outcome}`);
  return { health, revision, summary: parts.length > 0 ? parts.join('; ') : 'no change' };
}

/** Log records the signal appended (one per transition, one for a new revision): what the stream must deliver. */
export function signalAppended(response: HealthSignalsResponse): number {
  if (response.outcome === 'refused' || response.outcome === 'observed') return 0;
  const transitions = response.outcome === 'recorded' ? response.transitions.length : 0;
  return (
    transitions +
    (response.revision?.outcome === 'revised' ||
    (response.revision?.outcome === 'held' && !response.revision.duplicate)
      ? 1
      : 0) +
    (response.verdict?.outcome === 'recorded' ? 1 : 0)
  );
}

/** A revision, or the deferral of a re-routing that found every candidate left full, as a change. */
function revisionChangeOf(revised: ReviseRoutingResult): RevisionChange | null {
  if (revised.outcome === 'ignored') return null;
  const { record } = revised;
  const base = {
    jobId: record.jobId,
    stream: record.stream,
    version: record.version,
    dispatchId: dispatchIdOf(record.jobId, record.version),
  };
  if (revised.outcome === 'held')
    return {
      ...base,
      provider: null,
      model: null,
      queue: null,
      reason: null,
      already: revised.duplicate,
      heldFor: revised.record.waitingFor,
    };
  const { decision } = revised.record;
  return {
    ...base,
    provider: decision.type === 'RoutingDecided' ? decision.provider : null,
    model: decision.type === 'RoutingDecided' ? decision.model : null,
    queue: decision.type === 'RoutingDecided' ? decision.queue : null,
    reason: decision.type === 'RoutingRejected' ? decision.reason : null,
    already: revised.outcome === 'duplicate',
    heldFor: null,
  };
}

/** How a revision reads in a summary line. */
export function revisionText(revision: RevisionChange): string {
  if (revision.heldFor) return `held for ${revision.heldFor.join(', ')} (every candidate left full)`;
  return revision.provider
    ? `re-routed to ${revision.provider}/${revision.model}`
    : `rejected: ${revision.reason}`;
}
