/**
 * Holds: a job whose every candidate provider is full waits, recorded, instead of being dropped or
 * sent over a provider's `concurrency`.
 *
 *   1. The router finds every candidate full and the matched rule says `whenAllFull: hold` (the
 *      default): the job joins the waiting line of each full candidate (`w#<jobId>` on every slot
 *      shard of that provider, src/aws/dynamodb-slot-ledger.ts), then its deferral is appended as
 *      version 1 of its stream (RoutingDeferred), then a `recheck` message goes to the hold backlog,
 *      delayed by the bounded wait. Joining first means no new arrival can pass it: a new job's take
 *      is refused while anyone waits on the shard. A line at MAX_WAITING_PER_PROVIDER rejects the
 *      job at once (`capacity_exhausted`).
 *   2. A terminal completion that frees a slot sends `slot_freed` for its provider: the provider's
 *      line is decided again oldest first, each job taking a slot past the line (it is the one
 *      waiting), until one finds the provider full again.
 *   3. A `recheck` decides the lines the job waits in (a slot may have freed by expiry, when no
 *      completion came), then — if the job is still held — applies the rule's `atMaxHold` once its
 *      `holdUntil` passed, or sends the next `recheck`.
 *
 * A job decided again gets a RoutingDecided or RoutingRejected at version 2 (afterHold set),
 * appended conditionally on version 1: two handlers deciding the same job record one decision, and
 * a slot taken by the one that lost is given back unless the recorded decision holds it.
 *
 * The decision reads only the deferral's routing facts (decide.ts RoutingFacts) under the rules in
 * force then, with the credit balance the deferral recorded (the user id is sealed content).
 */
import type { JsonObject } from '../content/job-content.ts';
import type { DefaultedField } from '../intake/submission.ts';
import { type JobState, jobStateOf } from '../log/job-state.ts';
import {
  type AfterHold,
  type AtMaxHold,
  type DecisionRecord,
  decisionAfterHold,
  type RoutingDeferredRecord,
  type RoutingRevisedRecord,
  streamForJob,
} from '../log/routing-records.ts';
import { backlogDelaySec, type HoldBacklog } from '../ports/hold-backlog.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import type { SlotLedger } from '../ports/slot-ledger.ts';
import { dispatchIdOf } from '../projections/effects.ts';
import { readProviderSlots } from '../provider-health/slot-claims.ts';
import { shardCount } from '../provider-health/slot-shards.ts';
import type { RoutingDecision, RoutingFacts } from '../routing/decide.ts';
import { DEFAULT_MAX_HOLD_SEC, type RoutingTable } from '../routing/routing-table.ts';
import type { ActiveRules, RulesReader } from '../rules/active-rules.ts';
import { decideJob, type JobDecisionPorts, providersOf } from './decide-job.ts';
import {
  DEFAULT_RECHECK_SEC,
  type HeldSlot,
  type RouterCapacity,
  returnUnusedSlot,
} from './decide-with-capacity.ts';
import type { RouterHealth } from './decide-with-health.ts';
import { handleCommand } from './handle-command.ts';
import { alreadyTriedOf, heldFailureOf, laterOf, revisionRecordOf } from './revision-plan.ts';

/** What a hold will be: the lines the job waits in, until when, and what happens then. */
export interface HoldPlan {
  readonly waitingFor: readonly string[];
  readonly holdUntil: string;
  readonly atMaxHold: AtMaxHold;
}

/**
 * Pure: the hold a decision calls for — a `capacity_exhausted` rejection by a route rule whose
 * `whenAllFull` is `hold` (or absent) — or undefined. The lines are the full candidates of that
 * rule, in its order.
 */
export function holdPlanOf(decision: RoutingDecision, table: RoutingTable, now: Date): HoldPlan | undefined {
  if (decision.outcome !== 'rejected' || decision.reason !== 'capacity_exhausted') return undefined;
  const rule = table.rules.find((candidate) => candidate.id === decision.explanation.matchedRule);
  if (!rule || !('route' in rule) || (rule.whenAllFull ?? 'hold') !== 'hold') return undefined;
  const waitingFor = [
    ...new Set(
      decision.explanation.candidates.flatMap((candidate) =>
        candidate.rule === rule.id && candidate.reason === 'provider_full' && candidate.provider
          ? [candidate.provider]
          : [],
      ),
    ),
  ];
  if (waitingFor.length === 0) return undefined;
  const maxHoldMs = (rule.maxHoldSec ?? DEFAULT_MAX_HOLD_SEC) * 1000;
  return {
    waitingFor,
    holdUntil: new Date(now.getTime() + maxHoldMs).toISOString(),
    atMaxHold: rule.atMaxHold ?? 'reject',
  };
}

type Catalogue = RoutingTable['providers'];

/**
 * The hold a decision calls for, with the job already in its waiting lines (joined before the
 * deferral is appended, so no new arrival passes it); undefined when it is not held — no backlog,
 * no hold rule, or a line already at its maximum (then the rejection stands: `capacity_exhausted`).
 * A first decision and a re-routing both come here.
 */
export async function holdIfFull(
  decision: RoutingDecision,
  table: RoutingTable,
  providers: Catalogue,
  job: { readonly jobId: string; readonly sinceMs: number },
  capacity: RouterCapacity | undefined,
): Promise<HoldPlan | undefined> {
  if (!capacity?.backlog) return undefined;
  const plan = holdPlanOf(decision, table, new Date(job.sinceMs));
  if (!plan) return undefined;
  const joined = await joinLines(capacity.ledger, job, plan.waitingFor, providers);
  return joined === 'waiting' ? plan : undefined;
}

/**
 * A deferral on record stays findable: the job is in its lines and its next bounded-wait `recheck` is
 * sent. Every writer of a deferral and every recheck that leaves the job held ends here. `lines`:
 * `joined` when the caller has just joined them (holdIfFull), `check` otherwise — each line shard is
 * read and joined only where the entry went missing (a read, where an idempotent join would be a
 * refused conditional write, billed at the item's size, on every recheck of every held job).
 */
export async function keepHeld(
  deferral: RoutingDeferredRecord,
  providers: Catalogue,
  capacity: { readonly ledger: SlotLedger; readonly backlog?: HoldBacklog; readonly recheckSec?: number },
  now: Date,
  lines: 'joined' | 'check',
): Promise<void> {
  if (!capacity.backlog) return;
  if (lines === 'check') {
    const job = { jobId: deferral.jobId, sinceMs: Date.parse(deferral.recordedAt) };
    for (const provider of deferral.waitingFor) {
      for (const shard of lineShards(provider, providers)) {
        const line = await capacity.ledger.waiting({ provider, shard });
        if (!line.some((entry) => entry.jobId === job.jobId))
          await capacity.ledger.wait({ provider, shard }, job);
      }
    }
  }
  await capacity.backlog.send(
    { kind: 'recheck', jobId: deferral.jobId },
    recheckDelaySec(deferral.holdUntil, now, capacity.recheckSec),
  );
}

/** The shards a provider's line lives on: every slot shard (a new arrival may try any of them). */
function lineShards(provider: string, providers: Catalogue): number[] {
  const concurrency = providers[provider]?.concurrency;
  return Array.from({ length: concurrency === undefined ? 1 : shardCount(concurrency) }, (_, shard) => shard);
}

/**
 * Puts the job in the waiting line of every provider it waits for (idempotent). `line_full`: one
 * line was full; the job is taken out of the lines it joined, and is not held.
 */
export async function joinLines(
  ledger: SlotLedger,
  job: { readonly jobId: string; readonly sinceMs: number },
  waitingFor: readonly string[],
  providers: Catalogue,
): Promise<'waiting' | 'line_full'> {
  for (const provider of waitingFor) {
    for (const shard of lineShards(provider, providers)) {
      if ((await ledger.wait({ provider, shard }, job)) === 'line_full') {
        await leaveLines(ledger, job.jobId, waitingFor, providers);
        return 'line_full';
      }
    }
  }
  return 'waiting';
}

/** Takes the job out of every line it may wait in (idempotent). */
export async function leaveLines(
  ledger: SlotLedger,
  jobId: string,
  waitingFor: readonly string[],
  providers: Catalogue,
): Promise<void> {
  for (const provider of waitingFor) {
    for (const shard of lineShards(provider, providers)) await ledger.leave({ provider, shard }, jobId);
  }
}

/** The wait before the next check of a held job: the bounded wait, or less when its hold ends sooner. */
export function recheckDelaySec(holdUntil: string, now: Date, recheckSec = DEFAULT_RECHECK_SEC): number {
  const untilEnd = (Date.parse(holdUntil) - now.getTime()) / 1000;
  return backlogDelaySec(Math.min(recheckSec, Math.max(0, untilEnd)));
}

export interface HeldJobDependencies {
  readonly log: RoutingLog;
  readonly rules: RulesReader;
  readonly ledger: SlotLedger;
  readonly backlog: HoldBacklog;
  readonly health?: RouterHealth;
  /** Measured completion times (cached): a held job is decided again under its rule's `prefer` too. */
  readonly eta?: JobDecisionPorts['eta'];
  readonly now: () => Date;
  /** The bounded wait between checks (default DEFAULT_RECHECK_SEC). */
  readonly recheckSec?: number;
}

/**
 * The record that ends a hold: a decision at version 2 for a job held first, or the RoutingRevised
 * of a re-routing that was held (both carry `afterHold`).
 */
export type HoldEnding = DecisionRecord | RoutingRevisedRecord;

/** Where a hold ending sent the job (null: rejected) and why it was rejected (null: routed). */
export function endingOutcome(record: HoldEnding): {
  readonly decision: DecisionRecord;
  readonly afterHold: AfterHold | undefined;
} {
  return record.type === 'RoutingRevised'
    ? { decision: record.decision, afterHold: record.afterHold }
    : { decision: record, afterHold: record.afterHold };
}

export type HeldJobResult =
  | { readonly outcome: 'decided'; readonly record: HoldEnding }
  | { readonly outcome: 'still_held'; readonly holdUntil: string }
  | { readonly outcome: 'not_held' };

/** At its maximum hold the job meets the deferral's atMaxHold, as the rule's whenAllFull. */
function atMaxHoldRules(rules: ActiveRules, atMaxHold: AtMaxHold): ActiveRules {
  const apply = (table: RoutingTable): RoutingTable =>
    ({
      ...table,
      rules: table.rules.map((rule) => ('route' in rule ? { ...rule, whenAllFull: atMaxHold } : rule)),
    }) as RoutingTable;
  return {
    ...rules,
    table: apply(rules.table),
    canary: rules.canary ? { ...rules.canary, table: apply(rules.canary.table) } : null,
  };
}

interface HeldRead {
  readonly job: JobState;
  readonly made?: { readonly decision: RoutingDecision; readonly slot?: HeldSlot };
  readonly ended?: AfterHold['ended'];
  readonly at: string;
}

/**
 * What a held job is decided on: a first hold, on the deferral's facts with the credit balance it
 * recorded; a re-routing's hold, as its re-routing was — never back to a provider it tried, and no
 * credit read (a rule that requires credits fails closed for a revision).
 */
function heldDecisionInputs(job: JobState, deferral: RoutingDeferredRecord) {
  const facts = JSON.parse(deferral.job) as JsonObject as unknown as RoutingFacts;
  const failed = deferral.reroute;
  const original = job.dispatches.at(-1)?.decision;
  if (failed && original)
    return {
      job: facts,
      alreadyTried: alreadyTriedOf(
        job.dispatches,
        { provider: failed.failedProvider, model: failed.failedModel },
        original,
      ),
    };
  return {
    job: facts,
    creditBalance: deferral.explanation.creditBalance,
    defaulted: (deferral.explanation.defaulted ?? []) as DefaultedField[],
  };
}

/** Pure: the record that ends the hold — a decision, or for a re-routing's hold its RoutingRevised. */
function holdEndingOf(
  job: JobState,
  deferral: RoutingDeferredRecord,
  decision: RoutingDecision,
  at: { readonly version: number; readonly recordedAt: string; readonly ended: AfterHold['ended'] },
): HoldEnding {
  const ending = decisionAfterHold(deferral, decision, at);
  const original = job.dispatches.at(-1)?.decision;
  if (!deferral.reroute || !original) return ending;
  const { failure, revises, revisions } = heldFailureOf({ ...deferral, reroute: deferral.reroute });
  return revisionRecordOf(
    { version: at.version, at: at.recordedAt, revises, revisions, original },
    failure,
    decision,
    ending.afterHold,
  );
}

/**
 * Decides a held job again: read its stream → decide under the rules in force (decide-job.ts, as a
 * first decision), taking a slot past its line → append the record that ends the hold at the next
 * version unless every candidate is still full before its maximum hold. Leaves its lines once
 * decided (or when it turns out not held).
 */
export async function decideHeldJob(jobId: string, deps: HeldJobDependencies): Promise<HeldJobResult> {
  const stream = streamForJob(jobId);
  let taken: HeldSlot | undefined;
  const result = await handleCommand<
    HeldRead,
    HeldJobResult | { outcome: 'record'; record: HoldEnding },
    HeldJobResult
  >({
    read: async () => {
      const job = jobStateOf(await deps.log.readStream(stream));
      const now = deps.now();
      const at = laterOf(now.toISOString(), job.lastRecordedAt);
      const deferral = job.deferral;
      if (!job.held || !deferral) return { job, at };
      const expired = now.getTime() >= Date.parse(deferral.holdUntil);
      const inForce = await deps.rules.current();
      const rules = expired ? atMaxHoldRules(inForce, deferral.atMaxHold) : inForce;
      const { made, slot } = await decideJob(
        {
          ...heldDecisionInputs(job, deferral),
          rules,
          now,
          dispatchId: dispatchIdOf(jobId, job.version + 1),
          waitingJobId: jobId,
        },
        { health: deps.health, capacity: { ledger: deps.ledger }, eta: deps.eta },
      );
      if (slot?.outcome === 'taken') taken = slot;
      const fullAgain = made.decision.outcome === 'rejected' && made.decision.reason === 'capacity_exhausted';
      const ended: AfterHold['ended'] =
        expired && (fullAgain || (made.decision.outcome === 'routed' && made.decision.overflow === true))
          ? 'max_hold'
          : 'decided_again';
      return { job, made: { decision: made.decision, ...(slot ? { slot } : {}) }, ended, at };
    },
    decide: ({ job, made, ended, at }) => {
      const deferral = job.deferral;
      if (!job.held || !deferral || !made || !ended) return { outcome: 'not_held' };
      const { decision } = made;
      if (
        ended === 'decided_again' &&
        decision.outcome === 'rejected' &&
        decision.reason === 'capacity_exhausted'
      )
        return { outcome: 'still_held', holdUntil: deferral.holdUntil };
      return {
        outcome: 'record',
        record: holdEndingOf(job, deferral, decision, { version: job.version + 1, recordedAt: at, ended }),
      };
    },
    append: async (decided, { job }) => {
      if (decided.outcome !== 'record') return decided;
      await deps.log.appendToStream(stream, [decided.record], { expectedVersion: job.version });
      return { outcome: 'decided', record: decided.record };
    },
  });
  if (result.outcome === 'still_held') return result;
  const after = jobStateOf(await deps.log.readStream(stream));
  // A slot this command took but did not record is given back — unless the decision on record
  // (another handler's, same dispatchId) is the one holding it.
  if (taken && !holdsSlot(after, taken)) await returnUnusedSlot({ ledger: deps.ledger }, taken);
  if (after.deferral && !after.held) {
    await leaveLines(deps.ledger, jobId, after.deferral.waitingFor, providersOf(await deps.rules.current()));
  }
  return result;
}

const holdsSlot = (job: JobState, slot: HeldSlot): boolean =>
  job.dispatches.some(
    (dispatch) =>
      dispatch.decision.provider === slot.provider &&
      dispatchIdOf(dispatch.decision.jobId, dispatch.version) === slot.dispatchId,
  );

/**
 * How long a line entry may wait without its job's deferral on record before it counts as stray:
 * a router joins the lines just before it appends the deferral, and retries within seconds.
 */
export const STRAY_ENTRY_GRACE_MS = 60_000;

/**
 * An entry whose job is not held although it joined longer than the grace ago: its deferral (a first
 * one, or a re-routing's) was never recorded.
 */
async function isStray(jobId: string, sinceMs: number, deps: HeldJobDependencies): Promise<boolean> {
  if (deps.now().getTime() - sinceMs < STRAY_ENTRY_GRACE_MS) return false;
  return !jobStateOf(await deps.log.readStream(streamForJob(jobId))).held;
}

/** At most this many held jobs are decided per message; more go on in the next `slot_freed`. */
export const MAX_DECIDED_PER_DRAIN = 25;

export interface DrainResult {
  readonly provider: string;
  readonly decided: readonly HoldEnding[];
  /** Jobs still waiting in the line after the drain (0: it emptied). */
  readonly waiting: number;
}

/**
 * A provider's waiting line decided again, oldest first: each job takes a free slot (or its rule
 * decides otherwise), until one finds the provider full again — the jobs behind it keep waiting,
 * so the line keeps its order. A job in the line that is no longer held is taken out of it.
 */
export async function drainWaitingLine(provider: string, deps: HeldJobDependencies): Promise<DrainResult> {
  const line = await deps.ledger.waiting({ provider, shard: 0 });
  const decided: HoldEnding[] = [];
  let left = line.length;
  for (const [index, { jobId, sinceMs }] of line.entries()) {
    if (index === MAX_DECIDED_PER_DRAIN) {
      await deps.backlog.send({ kind: 'slot_freed', provider }, 0);
      break;
    }
    const result = await decideHeldJob(jobId, deps);
    if (result.outcome === 'still_held') break;
    if (result.outcome === 'not_held' && (await isStray(jobId, sinceMs, deps))) {
      // A router joined the line and never recorded the job (it stopped, and its event went to the
      // dead-letter queue): the entry would block every new arrival, so it is taken out.
      await leaveLines(deps.ledger, jobId, [provider], providersOf(await deps.rules.current()));
    }
    left--;
    if (result.outcome === 'decided') decided.push(result.record);
  }
  return { provider, decided, waiting: left };
}

/**
 * The bounded wait ran out for one held job: decide the lines it waits in (oldest first), then, if
 * it is still held, apply its rule's atMaxHold once its hold ended, or check again later.
 */
export async function recheckHeldJob(
  jobId: string,
  deps: HeldJobDependencies,
): Promise<{ readonly drained: readonly DrainResult[]; readonly result: HeldJobResult }> {
  const job = jobStateOf(await deps.log.readStream(streamForJob(jobId)));
  if (!job.held || !job.deferral) {
    // Not held (decided meanwhile, or a line entry left by a router that never recorded): leave.
    const result = await decideHeldJob(jobId, deps);
    return { drained: [], result };
  }
  const providers = providersOf(await deps.rules.current());
  const drained: DrainResult[] = [];
  for (const provider of await withFreeSlots(job.deferral.waitingFor, providers, deps))
    drained.push(await drainWaitingLine(provider, deps));
  const decidedHere = drained.some((drain) => drain.decided.some((record) => record.jobId === jobId));
  let result: HeldJobResult = decidedHere
    ? {
        outcome: 'decided',
        record: drained.flatMap((d) => d.decided).find((r) => r.jobId === jobId) as HoldEnding,
      }
    : { outcome: 'still_held', holdUntil: job.deferral.holdUntil };
  if (result.outcome === 'still_held' && deps.now().getTime() >= Date.parse(job.deferral.holdUntil)) {
    result = await decideHeldJob(jobId, deps);
  }
  if (result.outcome === 'still_held') {
    // Back in its lines should an entry have gone missing: it must be found by a drain.
    await keepHeld(job.deferral, providers, deps, deps.now(), 'check');
  }
  return { drained, result };
}

/**
 * The providers among `waitingFor` with a slot to take now — one consistent BatchGetItem of their
 * shards, a holder past its job timeout not counted (the take sweeps it) — or whose limit is gone
 * from the rules. A recheck drains only their lines: a full provider's drain could only be refused,
 * a billed conditional write per shard tried, on every recheck of every held job; a slot freed by
 * a completion wakes the line through its own `slot_freed`.
 */
async function withFreeSlots(
  waitingFor: readonly string[],
  providers: Catalogue,
  deps: HeldJobDependencies,
): Promise<string[]> {
  const limited = waitingFor.flatMap((provider) => {
    const concurrency = providers[provider]?.concurrency;
    return concurrency === undefined ? [] : [{ provider, concurrency }];
  });
  const slots = limited.length > 0 ? await readProviderSlots(deps.ledger, limited, deps.now().getTime()) : [];
  return waitingFor.filter((provider) => {
    const read = slots.find((s) => s.provider === provider);
    return read === undefined || read.free > 0;
  });
}
