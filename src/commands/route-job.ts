/**
 * RouteJob: the router's one use case. Validate the submission → load the credit balance (only
 * if a rule needs it) → decide → append the decision to the routing log. Dependencies arrive as
 * ports, so this module has no AWS in it and unit tests need no mocks.
 *
 * Idempotency lives in the log: the decision is version 1 of the job's stream and the append is
 * conditional. A redelivered or re-published submission finds the existing decision and returns
 * it (`duplicate`); the same jobId with a different payload is a `conflicting_duplicate`, reported
 * to the caller and never written.
 */
import type { CreditBalances } from '../credits/credit-balances.ts';
import { type SubmittedEvent, validateSubmission } from '../intake/submission.ts';
import type { RoutingLog } from '../log/routing-log.ts';
import {
  type DecisionRecord,
  decisionRecord,
  intakeRejectionRecord,
  type Received,
  UnsupportedRecordError,
} from '../log/routing-records.ts';
import { decide, tableNeedsCreditBalance } from '../routing/decide.ts';
import type { RoutingTable } from '../routing/routing-table.ts';

export interface RouteJob {
  readonly type: 'RouteJob';
  readonly data: { readonly event: SubmittedEvent };
}

export interface RouteJobDependencies {
  readonly log: RoutingLog;
  readonly credits: CreditBalances;
  readonly table: RoutingTable;
  readonly now: () => Date;
  /** Used as the event id when the event carries none (never the case from EventBridge). */
  readonly newId: () => string;
}

export type RouteJobResult =
  | { readonly outcome: 'recorded'; readonly record: DecisionRecord }
  | { readonly outcome: 'duplicate'; readonly record: DecisionRecord }
  | {
      readonly outcome: 'conflicting_duplicate';
      /** The decision already on record, which stands. */
      readonly record: DecisionRecord;
      /** Hash of the payload that was refused. */
      readonly refusedPayloadHash: string;
    };

export async function routeJob(command: RouteJob, deps: RouteJobDependencies): Promise<RouteJobResult> {
  const { event } = command.data;
  const received: Received = {
    eventId: typeof event.id === 'string' && event.id.length > 0 ? event.id : deps.newId(),
    submittedAt: typeof event.time === 'string' ? event.time : null,
    recordedAt: deps.now().toISOString(),
    detail: event.detail,
  };

  const intake = validateSubmission(event);
  let record: DecisionRecord;
  if (intake.ok) {
    const job = intake.submission;
    const creditBalance = tableNeedsCreditBalance(deps.table)
      ? await deps.credits.balanceOf(job.userId)
      : undefined;
    record = decisionRecord(received, job, decide(job, { table: deps.table, creditBalance }));
  } else {
    record = intakeRejectionRecord(received, intake);
  }

  const appended = await deps.log.append(record);
  if (appended.status === 'appended') return { outcome: 'recorded', record };

  const existing = appended.existing;
  if (existing.type !== 'RoutingDecided' && existing.type !== 'RoutingRejected') {
    // Version 1 of a stream is always a decision; anything else means the table was tampered with.
    throw new UnsupportedRecordError(`version 1 of ${existing.stream} is not a decision`, existing);
  }
  if (existing.payloadHash === record.payloadHash) return { outcome: 'duplicate', record: existing };
  return { outcome: 'conflicting_duplicate', record: existing, refusedPayloadHash: record.payloadHash };
}
