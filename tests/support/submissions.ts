/** Builders for inbound submissions: tests state only the fields that matter to them. */
import { randomUUID } from 'node:crypto';
import type { SubmittedEvent } from '../../src/intake/submission.ts';

export function aSubmissionDetail(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jobId: `job-${randomUUID()}`,
    userId: 'user-123',
    prompt: 'corgi surfing',
    lengthSec: 8,
    resolution: '720p',
    tier: 'standard',
    provider: 'auto',
    ...overrides,
  };
}

export function aSubmittedEvent(
  detail: unknown = aSubmissionDetail(),
  envelope: Partial<SubmittedEvent> = {},
) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'video.job.submitted',
    source: 'frontend.api',
    account: '123456789012',
    time: '2026-11-25T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
    ...envelope,
  } satisfies SubmittedEvent & Record<string, unknown>;
}
