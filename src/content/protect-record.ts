/**
 * Protecting a decision record before it is appended (router) and opening it again (projector).
 * Pure: the key is passed in.
 */
import type { DecisionRecord, RoutingDeferredRecord } from '../log/routing-records.ts';
import type { ContentKey } from '../ports/content-vault.ts';
import { type JsonObject, joinJob, type SplitJob } from './job-content.ts';
import { sealContent } from './sealed-content.ts';

/** The record with `job` narrowed to its facts and the content sealed beside them. */
export function protectRecord<R extends DecisionRecord | RoutingDeferredRecord>(
  record: R,
  split: SplitJob,
  key: ContentKey,
): R {
  const { content: _unsealed, ...rest } = record;
  const job = JSON.stringify(split.facts);
  const binding = { stream: record.stream, version: record.version, job };
  return {
    ...rest,
    job,
    ...(split.content ? { content: sealContent(split.content, key, binding) } : {}),
  } as R;
}

/**
 * What a record's sealed content is bound to: its own stream, version and facts — except the
 * decision that ended a hold, which carries the content its deferral sealed (at that version),
 * never unsealed and sealed again.
 */
export const sealBindingOf = (record: DecisionRecord) =>
  record.afterHold
    ? { stream: record.stream, version: record.afterHold.deferredVersion, job: record.job }
    : record;

/** The record as the projector plans it: `job` is the whole submission again, nothing sealed. */
export function withContent<R extends DecisionRecord>(record: R, content: JsonObject | null): R {
  const { content: _sealed, ...rest } = record;
  if (record.job === null) return rest as R;
  return { ...rest, job: JSON.stringify(joinJob(JSON.parse(record.job) as JsonObject, content)) } as R;
}
