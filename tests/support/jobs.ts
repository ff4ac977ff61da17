import { type JobSubmission, jobSubmissionSchema } from '../../src/intake/submission.ts';
import { aSubmissionDetail } from './submissions.ts';

/** A validated submission, built through the real schema. */
export function aJob(overrides: Record<string, unknown> = {}): JobSubmission {
  return jobSubmissionSchema.parse(aSubmissionDetail(overrides));
}
