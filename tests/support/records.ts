/** Builders for routing-log records, made by the real record functions so they cannot drift. */
import { randomUUID } from 'node:crypto';
import { validateSubmission } from '../../src/intake/submission.ts';
import {
  type DecisionRecord,
  decisionRecord,
  intakeRejectionRecord,
  type ProjectionReplayRequestedRecord,
  type Received,
  type RoutingDecidedRecord,
  type RoutingLogRecord,
  type RoutingRejectedRecord,
  type RoutingRevisedRecord,
  type SubmissionMetadata,
} from '../../src/log/routing-records.ts';
import { decide } from '../../src/routing/decide.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { testPayloadHash } from './content.ts';
import { aJob } from './jobs.ts';
import { aSubmissionDetail, aSubmittedEvent } from './submissions.ts';

export const RECORDED_AT = '2026-11-25T10:00:01.000Z';

function received(detail: unknown, recordedAt = RECORDED_AT): Received {
  return {
    eventId: randomUUID(),
    submittedAt: '2026-11-25T10:00:00Z',
    recordedAt,
    detail,
    payloadHash: testPayloadHash(detail),
  };
}

function decided(detail: Record<string, unknown>): DecisionRecord {
  const job = aJob(detail);
  return decisionRecord(received(detail), job, decide(job, { table: defaultRoutingTable }));
}

/** A RoutingDecided record for an explicit request of `provider` (or auto ≤ 10 s 720p → fal). */
export function aRoutedRecord(overrides: Record<string, unknown> = {}): RoutingDecidedRecord {
  const record = decided(aSubmissionDetail(overrides));
  if (record.type !== 'RoutingDecided')
    throw new Error(`expected a routed decision, got ${record.data.reason}`);
  return record;
}

/** A RoutingRejected record with reason no_route (auto, too long for the only auto rule). */
export function aNoRouteRecord(overrides: Record<string, unknown> = {}): RoutingRejectedRecord {
  const record = decided(aSubmissionDetail({ lengthSec: 30, ...overrides }));
  if (record.type !== 'RoutingRejected') throw new Error('expected a rejection');
  return record;
}

/** A RoutingRejected record made at intake (invalid_request), with or without a usable jobId. */
export function anInvalidRequestRecord(options: { withJobId?: boolean } = {}): RoutingRejectedRecord {
  const detail = aSubmissionDetail({ lengthSec: -1 });
  if (options.withJobId === false) delete detail.jobId;
  const intake = validateSubmission(aSubmittedEvent(detail), defaultRoutingTable);
  if (intake.ok) throw new Error('expected an intake rejection');
  return intakeRejectionRecord(received(detail), intake);
}

/** A ProjectionReplayRequested record (version ≥ 2) re-projecting `decision`. */
export function aReplayOf(decision: DecisionRecord, version = 2): ProjectionReplayRequestedRecord {
  if (decision.metadata.jobId === null) throw new Error('a replay needs a jobId');
  return {
    type: 'ProjectionReplayRequested',
    data: {
      replayId: `replay-${randomUUID()}`,
      requestedBy: 'ops@example.com',
      why: 'provider outage',
      replayOf: decision.metadata.version,
      decision,
    },
    metadata: {
      stream: decision.metadata.stream,
      version,
      recordedAt: '2026-11-26T09:00:00.000Z',
      schemaVersion: decision.metadata.schemaVersion,
      jobId: decision.metadata.jobId,
    },
  };
}

/** The same record at another version of its stream (a copy placed later, or a conflicting append). */
export const withVersion = <R extends RoutingLogRecord>(record: R, version: number): R => ({
  ...record,
  metadata: { ...record.metadata, version },
});

/** The same record with some of its data replaced. */
export const withData = <R extends RoutingLogRecord>(record: R, data: Partial<R['data']>): R => ({
  ...record,
  data: { ...record.data, ...data },
});

/** The same record with some of its metadata replaced. */
export const withMetadata = <R extends RoutingLogRecord>(
  record: R,
  metadata: Partial<SubmissionMetadata>,
): R => ({ ...record, metadata: { ...record.metadata, ...metadata } });

/**
 * A RoutingRevised record at `version`: `failed`'s v1 dispatch failed on fal (signal-1) and the job
 * was re-routed to the decision `to`.
 */
export function aRevisionOf(
  failed: DecisionRecord,
  to: DecisionRecord,
  { version, recordedAt }: { version: number; recordedAt: string },
): RoutingRevisedRecord {
  const jobId = failed.metadata.jobId;
  if (jobId === null) throw new Error('a revision needs a jobId');
  return {
    type: 'RoutingRevised',
    data: {
      revision: 1,
      revises: 1,
      failedDispatchId: `${jobId}:v1`,
      failedProvider: 'fal',
      failedModel: 'wan-i2v',
      causedBy: 'signal-1',
      decision: to,
    },
    metadata: { stream: failed.metadata.stream, version, schemaVersion: 1, jobId, recordedAt },
  };
}
