import { describe, expect, it } from 'vitest';
import { MAX_LENGTH_SEC, MAX_PROMPT_LENGTH, validateSubmission } from '../../src/intake/submission.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const validate = (detail: unknown, envelope = {}) => validateSubmission(aSubmittedEvent(detail, envelope));

describe('intake: validating a video.job.submitted event', () => {
  it('accepts the seed example and defaults nothing it was given', () => {
    const result = validate(aSubmissionDetail({ jobId: 'uuid-1' }));
    expect(result).toMatchObject({
      ok: true,
      submission: { jobId: 'uuid-1', provider: 'auto', lengthSec: 8 },
    });
  });

  it('defaults a missing provider to auto', () => {
    const { provider: _omitted, ...detail } = aSubmissionDetail();
    const result = validate(detail);
    expect(result.ok && result.submission.provider).toBe('auto');
  });

  it.each([
    ['resolution', '720P', '720p'],
    ['resolution', ' 1080p ', '1080p'],
    ['provider', 'FAL', 'fal'],
    ['provider', 'Replicate', 'replicate'],
    ['tier', 'Standard', 'standard'],
  ])('normalises the casing of %s %j to %j', (field, given, expected) => {
    const result = validate(aSubmissionDetail({ [field]: given }));
    expect(result.ok && (result.submission as Record<string, unknown>)[field]).toBe(expected);
  });

  it('keeps unknown extra fields so they reach the provider', () => {
    const result = validate(
      aSubmissionDetail({ imageUrl: 's3://bucket/frame.png', feature: { audio: true, hdr: 1 } }),
    );
    expect(result.ok && result.submission).toMatchObject({
      imageUrl: 's3://bucket/frame.png',
      feature: { audio: true, hdr: 1 },
    });
  });

  it.each([
    ['zero length', { lengthSec: 0 }, 'detail.lengthSec'],
    ['negative length', { lengthSec: -5 }, 'detail.lengthSec'],
    ['absurd length', { lengthSec: MAX_LENGTH_SEC + 1 }, 'detail.lengthSec'],
    ['length as a string', { lengthSec: '8' }, 'detail.lengthSec'],
    ['unknown resolution', { resolution: '8k' }, 'detail.resolution'],
    ['empty prompt', { prompt: '' }, 'detail.prompt'],
    ['oversized prompt', { prompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1) }, 'detail.prompt'],
    ['missing userId', { userId: undefined }, 'detail.userId'],
    ['jobId with spaces', { jobId: 'a b' }, 'detail.jobId'],
    ['audio not a boolean', { feature: { audio: 'yes' } }, 'detail.feature.audio'],
    ['tier that is not a word', { tier: '!!' }, 'detail.tier'],
    ['provider that is not a string', { provider: 42 }, 'detail.provider'],
  ])('rejects %s as invalid_request naming the field', (_case, overrides, path) => {
    const result = validate(aSubmissionDetail(overrides));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe('invalid_request');
    expect(result.fieldErrors.map((e) => e.path)).toContain(path);
  });

  it('rejects an unknown provider as unknown_provider', () => {
    const result = validate(aSubmissionDetail({ jobId: 'job-veo', provider: 'veo' }));
    expect(result).toMatchObject({ ok: false, reason: 'unknown_provider', jobId: 'job-veo' });
  });

  it('reports invalid_request when the provider is unknown and another field is wrong too', () => {
    const result = validate(aSubmissionDetail({ provider: 'veo', lengthSec: -1 }));
    expect(result).toMatchObject({ ok: false, reason: 'invalid_request' });
  });

  it.each([
    ['null', null],
    ['a string', 'corgi surfing'],
    ['an array', [1, 2]],
    ['absent', undefined],
  ])('rejects a detail that is %s, without a jobId', (_case, detail) => {
    const result = validateSubmission({ ...aSubmittedEvent(), detail });
    expect(result).toMatchObject({ ok: false, reason: 'invalid_request', jobId: undefined });
  });

  it('keeps the jobId of an invalid submission so the rejection is filed under the job', () => {
    const result = validate(aSubmissionDetail({ jobId: 'job-7', lengthSec: 0 }));
    expect(result).toMatchObject({ ok: false, jobId: 'job-7' });
  });

  it('rejects an event from another source or of another type', () => {
    const result = validate(aSubmissionDetail(), {
      source: 'someone.else',
      'detail-type': 'video.job.cancelled',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.fieldErrors.map((e) => e.path)).toEqual(['source', 'detail-type']);
  });
});
