/**
 * RouteJob: the router's one use case, in the shape of every command (handleCommand). Read: the
 * rules in force, the submission validated against them, the credit balance (only if a rule needs
 * it) and the routing decision under provider health (whose half-open probe is leased before
 * anything is recorded) → decide (pure): the decision record → append: seal its user content and
 * append it as version 1 of the job's stream. Dependencies arrive as ports, so this module has no AWS in it and unit tests
 * need no mocks.
 *
 * Idempotency lives in the log: the decision is version 1 of the job's stream and the append is
 * conditional. A redelivered or re-published submission finds the existing decision and returns
 * it (`duplicate`); the same jobId with a different payload is a `conflicting_duplicate`, reported
 * to the caller and never written. Payloads are compared by their keyed hash
 * (src/content/payload-hasher.ts); once the stored record's hour key is shredded its content can no
 * longer be compared, and the routing facts decide (same facts: `duplicate`).
 *
 * A routed job whose provider-queue message could never fit the queue (PROVIDER_QUEUE_MAX_MESSAGE_BYTES)
 * is rejected here, `message_too_large`: known at decision time, never a permanent projector failure.
 */
import type { ContentKeyRing } from '../content/content-key-ring.ts';
import { splitJob, splitRawDetail } from '../content/job-content.ts';
import type { PayloadHasher } from '../content/payload-hasher.ts';
import { protectRecord } from '../content/protect-record.ts';
import {
  envelopeOf,
  eventIdOf,
  type IntakeResult,
  type SubmittedEvent,
  submittedAtOf,
  validateSubmission,
} from '../intake/submission.ts';
import { initialJobState, type JobState, jobStateOf } from '../log/job-state.ts';
import {
  DECISION_VERSION,
  type DecisionRecord,
  decisionRecord,
  deferralRecord,
  intakeRejectionRecord,
  messageTooLargeRecord,
  type Received,
  type RoutingDeferredRecord,
  type RoutingLogRecord,
} from '../log/routing-records.ts';
import { UnsupportedRecordError } from '../log/stored-records.ts';
import type { CreditBalances } from '../ports/credit-balances.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { DEFAULT_QUEUE_MAX_MESSAGE_BYTES, dispatchMessageBytes } from '../projections/dispatch.ts';
import { dispatchIdOf } from '../projections/effects.ts';
import type { EtaReader } from '../provider-health/eta-cache.ts';
import type { RoutingDecision } from '../routing/decide.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { fixedRules, type RulesReader } from '../rules/active-rules.ts';
import {
  decidingTableOf,
  providersInForce,
  type RulesDecision,
  rulesNeedCreditBalance,
} from '../rules/rules-decision.ts';
import { decideJob, providersOf } from './decide-job.ts';
import { type HeldSlot, type RouterCapacity, returnUnusedSlot } from './decide-with-capacity.ts';
import type { RouterHealth } from './decide-with-health.ts';
import { handleCommand } from './handle-command.ts';
import { type HoldPlan, holdIfFull, keepHeld, leaveLines } from './hold-job.ts';

export interface RouteJob {
  readonly type: 'RouteJob';
  readonly data: { readonly event: SubmittedEvent };
}

export interface RouteJobDependencies {
  readonly log: RoutingLog;
  readonly credits: CreditBalances;
  /** The bundled default table: what decides when no `rules` reader is given. */
  readonly table: RoutingTable;
  /** The published rules (active, shadow, canary) through the router's cache. */
  readonly rules?: RulesReader;
  /** Seals the user content of the record (a cached transit key: no call per job). */
  readonly contentKeys: Pick<ContentKeyRing, 'sealingKey'>;
  /** Keyed payload hashes (an hourly key: one KMS call per container and hour, none per job). */
  readonly payloadHashes: Pick<PayloadHasher, 'hash' | 'sameSubmission'>;
  readonly now: () => Date;
  /** Used as the event id when the event carries none (never the case from EventBridge). */
  readonly newId: () => string;
  /** The provider queues' MaximumMessageSize (default DEFAULT_QUEUE_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** Provider health (breakers, probe leases); absent: every provider counts as healthy. */
  readonly health?: RouterHealth;
  /** The providers' slot ledger; absent: no provider is ever full (no slot is taken). */
  readonly capacity?: RouterCapacity;
  /**
   * Measured completion times (cached): read only when the rules in force ask for quotes (a rule's
   * `prefer: eta|cost`, a tier's `maxEtaSec`); absent: every quote is the table's default.
   */
  readonly eta?: { readonly reader: EtaReader };
}

/** What routing records at version 1: a decision, or the deferral of a job held for a slot. */
export type RoutingRecord = DecisionRecord | RoutingDeferredRecord;

export type RouteJobResult =
  | { readonly outcome: 'recorded'; readonly record: RoutingRecord }
  | { readonly outcome: 'duplicate'; readonly record: RoutingRecord }
  | {
      readonly outcome: 'conflicting_duplicate';
      /** The decision (or deferral) already on record, which stands. */
      readonly record: RoutingRecord;
    };

/**
 * Read: the routing inputs, with the job's stream taken as new (version 1 is the decision, so a
 * stream is read only when that version turns out taken: a redelivery, never the common case) →
 * decide: the decision record, or the answer the stream already holds → append at version 0.
 */
export async function routeJob(command: RouteJob, deps: RouteJobDependencies): Promise<RouteJobResult> {
  const maxMessageBytes = deps.maxMessageBytes ?? DEFAULT_QUEUE_MAX_MESSAGE_BYTES;
  let inputs: RoutingInputs | undefined;
  /** The sealed record of the last append: what a taken version 1 is compared with. */
  let attempted: RoutingRecord | undefined;
  return handleCommand(
    {
      read: async (conflict) => {
        inputs ??= await readRoutingInputs(command, deps);
        if (!conflict) return { inputs, job: initialJobState, same: false };
        const found = conflict.existing as RoutingLogRecord | undefined;
        const job = jobStateOf(found ? [found] : await deps.log.readStream(conflict.stream));
        return {
          inputs,
          job,
          same: await sameSubmission(job.deferral ?? job.decision, attempted, inputs, deps),
        };
      },
      decide: ({ inputs, job, same }) => decideRouting(inputs, job, same, maxMessageBytes),
      append: async (decided, { inputs }): Promise<RouteJobResult> => {
        if (decided.outcome !== 'record') {
          // The job was decided before: the slot that decision took (if any) is the job's, not this one.
          if (attempted?.type === 'RoutingDecided') await returnUnusedSlot(deps.capacity, inputs.slot);
          await settleHold(decided.record, inputs, deps, false);
          return decided;
        }
        // A slot taken for a decision that became a rejection (message too large) is given back.
        if (decided.record.type !== 'RoutingDecided') await returnUnusedSlot(deps.capacity, inputs.slot);
        attempted = await sealed(decided.record, inputs, deps.contentKeys);
        await deps.log.appendToStream(attempted.stream, [attempted], { expectedVersion: 0 });
        await settleHold(attempted, inputs, deps, true);
        return { outcome: 'recorded', record: attempted };
      },
    },
    // A taken version 1 is a redelivery, not contention: its answer is one read away, no backoff.
    { backoffMs: () => 0 },
  );
}

/**
 * After version 1 is on record: a held job (this deferral, or one found on a redelivery) is in its
 * waiting lines (idempotent) and gets its bounded-wait `recheck` — sent again on every redelivery,
 * so a router that stopped between the append and the send loses nothing (a duplicate recheck is
 * harmless). Lines this attempt joined for a job whose record is not a deferral are left.
 */
async function settleHold(
  record: RoutingRecord,
  inputs: RoutingInputs,
  deps: RouteJobDependencies,
  fresh: boolean,
) {
  const capacity = deps.capacity;
  if (!capacity?.backlog) return;
  const providers = inputs.providers ?? {};
  // This attempt joined the lines just before appending its own deferral; a deferral found on a
  // redelivery is checked (an entry may have gone missing).
  if (record.type === 'RoutingDeferred')
    await keepHeld(record, providers, capacity, deps.now(), inputs.hold && fresh ? 'joined' : 'check');
  else if (inputs.hold && record.jobId !== null)
    await leaveLines(capacity.ledger, record.jobId, inputs.hold.waitingFor, providers);
}

/**
 * Whether the decision on record was made for this very submission (a redelivery): the same
 * payload hash, or — across a hash key's hour or from before keyed hashes — the same detail under
 * the record's own hash (src/content/payload-hasher.ts), else the same routing facts.
 */
async function sameSubmission(
  existing: RoutingRecord | null,
  attempted: RoutingRecord | undefined,
  inputs: RoutingInputs,
  deps: RouteJobDependencies,
): Promise<boolean> {
  if (!existing || !attempted) return false;
  if (existing.payloadHash === attempted.payloadHash) return true;
  return (
    (await deps.payloadHashes.sameSubmission(existing, inputs.received.detail, deps.now())) ??
    existing.job === attempted.job
  );
}

/** Pure: the record to append, or, when the stream already holds the decision, the answer it gives. */
function decideRouting(
  inputs: RoutingInputs,
  job: JobState,
  same: boolean,
  maxMessageBytes: number,
): RouteJobResult | { readonly outcome: 'record'; readonly record: RoutingRecord } {
  if (job.version === 0) return { outcome: 'record', record: decisionRecordOf(inputs, maxMessageBytes) };
  // Version 1 is the decision, or the deferral of a job held first.
  const existing = job.deferral ?? job.decision;
  if (!existing) {
    // Version 1 of a stream is always a decision; anything else means the table was tampered with.
    throw new UnsupportedRecordError(`version 1 of ${job.stream} is not a decision`, job.current?.record);
  }
  return same
    ? { outcome: 'duplicate', record: existing }
    : { outcome: 'conflicting_duplicate', record: existing };
}

interface RoutingInputs {
  readonly event: SubmittedEvent;
  readonly received: Received;
  readonly intake: IntakeResult;
  /** The routing decision (and shadow) made under health; absent for an invalid submission. */
  readonly made?: RulesDecision;
  /** The provider slot the decision took (absent: none needed). */
  readonly slot?: HeldSlot;
  /** Every candidate was full and the rule holds: the job is in these waiting lines (joined). */
  readonly hold?: HoldPlan;
  /** The provider catalogue in force (the lines' shard counts follow from it). */
  readonly providers?: RoutingTable['providers'];
}

async function readRoutingInputs(command: RouteJob, deps: RouteJobDependencies): Promise<RoutingInputs> {
  const event = envelopeOf(command.data.event);
  const now = deps.now();
  const received: Received = {
    eventId: eventIdOf(event) ?? deps.newId(),
    submittedAt: submittedAtOf(event),
    recordedAt: now.toISOString(),
    detail: event.detail,
    payloadHash: await deps.payloadHashes.hash(event.detail, now),
  };
  const rules = await (deps.rules ?? fixedRules(deps.table)).current();
  // The providers a request may name are those of the rules in force, not a fixed list.
  const intake = validateSubmission(event, providersInForce(rules));
  if (!intake.ok) return { event, received, intake };
  const job = intake.submission;
  const creditBalance = rulesNeedCreditBalance(rules, job.jobId)
    ? await deps.credits.balanceOf(job.userId)
    : undefined;
  const providers = providersOf(rules);
  const { made, slot } = await decideJob(
    {
      job,
      rules,
      creditBalance,
      defaulted: intake.defaulted,
      now,
      dispatchId: dispatchIdOf(job.jobId, DECISION_VERSION),
    },
    deps,
  );
  const hold = await holdIfFull(
    made.decision,
    decidingTableOf(rules, job.jobId),
    providers,
    { jobId: job.jobId, sinceMs: now.getTime() },
    deps.capacity,
  );
  return { event, received, intake, made, providers, ...(slot ? { slot } : {}), ...(hold ? { hold } : {}) };
}

/** Pure: the record the inputs make (its user content still in clear). */
function decisionRecordOf(
  { received, intake, made, hold, providers }: RoutingInputs,
  maxMessageBytes: number,
): RoutingRecord {
  if (!intake.ok || !made)
    return intakeRejectionRecord(received, intake as Extract<IntakeResult, { ok: false }>);
  // A held job is measured now, as the message its first candidate would get: one that can never
  // fit the queue is rejected at once, never held only to fail when it is decided again.
  const measured = hold ? heldAsRouted(made.decision, hold, providers) : made.decision;
  const record = decisionRecord(received, intake.submission, measured, made.shadow);
  if (record.type !== 'RoutingDecided')
    return hold
      ? deferralRecord(received, intake.submission, made.decision.explanation, hold, made.shadow)
      : record;
  const messageBytes = dispatchMessageBytes(record);
  if (hold && messageBytes <= maxMessageBytes)
    return deferralRecord(received, intake.submission, made.decision.explanation, hold, made.shadow);
  return messageBytes > maxMessageBytes
    ? messageTooLargeRecord(record, { messageBytes, maxMessageBytes })
    : record;
}

/** The decision a held job would get on its first candidate (what its message is measured as). */
function heldAsRouted(
  decision: RoutingDecision,
  hold: HoldPlan,
  providers: RoutingTable['providers'] | undefined,
): RoutingDecision {
  const provider = hold.waitingFor[0] as string;
  const candidate = decision.explanation.candidates.find(
    (c) => c.provider === provider && c.reason === 'provider_full' && c.model !== null,
  );
  const queue = providers?.[provider]?.queue;
  if (!candidate?.model || queue === undefined) return decision;
  return {
    outcome: 'routed',
    provider,
    model: candidate.model,
    queue,
    estimatedCost: null,
    explanation: decision.explanation,
  };
}

/** The record with its user content sealed under the hour's transit key (cached: no call per job). */
async function sealed<R extends RoutingRecord>(
  record: R,
  { event, received, intake }: RoutingInputs,
  keys: RouteJobDependencies['contentKeys'],
): Promise<R> {
  // A detail outside the intake bounds is not kept at all (job null): nothing to seal.
  if (record.job === null) return record;
  const content = intake.ok ? splitJob(intake.submission) : splitRawDetail(event.detail);
  return protectRecord(record, content, await keys.sealingKey(new Date(received.recordedAt)));
}
