/**
 * Erasure planning: the pure half of `routing-manager forget`. Each job of the user whose content
 * is retained gets one `ContentErased` record at its stream's next version (the erasure is part of
 * the job's immutable history, without the content), then its retained content is deleted.
 *
 * Idempotent: a stream that already holds a ContentErased record is not appended to again. The
 * erasureId is a hash of the operator's reason (a ticket reference, typically), never of the user
 * id: the log must not be able to link the erased jobs back to the person.
 */
import { createHash } from 'node:crypto';
import { type JobState, nextRecordMetadata } from '../log/job-state.ts';
import type { ContentErasedRecord } from '../log/routing-records.ts';

export interface ErasureAuthor {
  readonly erasureId: string;
  readonly requestedBy: string;
  readonly why: string;
  /** When the erasure was requested (ISO): the record's recordedAt, never part of an id. */
  readonly at: string;
}

export const erasureIdOf = (why: string): string =>
  `erasure-${createHash('sha256').update(why.trim()).digest('hex').slice(0, 24)}`;

export type ErasureStep =
  | { readonly action: 'append'; readonly record: ContentErasedRecord }
  | { readonly action: 'already_erased'; readonly version: number }
  | { readonly action: 'no_decision' };

export function planErasureStep(job: JobState, author: ErasureAuthor): ErasureStep {
  if (job.erasure) return { action: 'already_erased', version: job.erasure.metadata.version };
  if (!job.decision) return { action: 'no_decision' };
  return {
    action: 'append',
    record: {
      type: 'ContentErased',
      data: { erasureId: author.erasureId, requestedBy: author.requestedBy, why: author.why },
      metadata: nextRecordMetadata({ ...job, decision: job.decision }, author.at),
    },
  };
}
