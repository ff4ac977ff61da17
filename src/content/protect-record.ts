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
  const { content: _unsealed, ...rest } = record.data;
  const job = JSON.stringify(split.facts);
  const binding = { stream: record.metadata.stream, version: record.metadata.version, job };
  return {
    ...record,
    data: { ...rest, job, ...(split.content ? { content: sealContent(split.content, key, binding) } : {}) },
  } as R;
}

/**
 * What a record's sealed content is bound to: its own stream, version and facts — except the
 * decision that ended a hold, which carries the content its deferral sealed (at that version),
 * never unsealed and sealed again.
 */
export const sealBindingOf = (record: DecisionRecord) => ({
  stream: record.metadata.stream,
  version: record.data.afterHold?.deferredVersion ?? record.metadata.version,
  job: record.data.job,
});

/** The record as the projector plans it: `job` is the whole submission again, nothing sealed. */
export function withContent<R extends DecisionRecord>(record: R, content: JsonObject | null): R {
  const { content: _sealed, ...rest } = record.data;
  const job = rest.job === null ? null : JSON.stringify(joinJob(JSON.parse(rest.job) as JsonObject, content));
  return { ...record, data: { ...rest, job } } as R;
}
