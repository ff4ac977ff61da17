import { type JobSubmission, parseDetail } from '../../src/intake/submission.ts';
import { aSubmissionDetail } from './submissions.ts';

/** A validated submission, built through the real schema. */
export function aJob(overrides: Record<string, unknown> = {}): JobSubmission {
  const parsed = parseDetail(aSubmissionDetail(overrides));
  if (!parsed.ok) throw new Error(`not a valid job: ${JSON.stringify(parsed.fieldErrors)}`);
  return parsed.submission;
}
