import { describe, expect, it } from 'vitest';
import { validateSubmission } from '../../src/intake/submission.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable } from '../../src/routing/routing-table.ts';
import { withField } from '../support/hostile-json.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const validate = (detail: unknown, envelope = {}) =>
  validateSubmission(aSubmittedEvent(detail, envelope), defaultRoutingTable);

const withVeo = loadRoutingTable({
  ...defaultRoutingTable,
  providers: {
    ...defaultRoutingTable.providers,
    veo: { queue: 'VeoJobQueue', models: { 'veo-3': { pricePerSecond: 0.5 } } },
  },
});

describe('intake: validating a video.job.submitted event', () => {
  it('accepts the seed example and defaults nothing it was given', () => {
    const result = validate(aSubmissionDetail({ jobId: 'uuid-1' }));
    expect(result).toMatchObject({
      ok: true,
      submission: { jobId: 'uuid-1', provider: 'auto', tier: 'standard', lengthSec: 8 },
      defaulted: [],
    });
  });

  it('defaults a missing provider to auto and a missing tier to standard, and says so', () => {
    const { provider: _p, tier: _t, ...detail } = aSubmissionDetail();
    const result = validate(detail);
    expect(result).toMatchObject({
      ok: true,
      submission: { provider: 'auto', tier: 'standard' },
      defaulted: ['tier', 'provider'],
    });
  });

  it.each([
    ['resolution', '720P', '720p'],
    ['resolution', ' 1080p ', '1080p'],
    ['resolution', '1440P', '1440p'],
    ['provider', 'FAL', 'fal'],
    ['provider', ' Replicate ', 'replicate'],
    ['tier', 'Standard', 'standard'],
    ['tier', ' pro ', 'pro'],
  ])('normalises %s %j to %j (trimmed, lower-cased)', (field, given, expected) => {
    const result = validate(aSubmissionDetail({ [field]: given }));
    expect(result.ok && (result.submission as Record<string, unknown>)[field]).toBe(expected);
  });

  it.each([
    ['a resolution no table lists', { resolution: '1440p' }],
    ['a length far beyond any rule', { lengthSec: 900 }],
    ['a fractional length', { lengthSec: 0.5 }],
    ['a long prompt', { prompt: 'x'.repeat(50_000) }],
    ['a tier no rule names', { tier: 'enterprise' }],
  ])('accepts %s: the rules judge it, not intake', (_case, overrides) => {
    expect(validate(aSubmissionDetail(overrides)).ok).toBe(true);
  });

  it('keeps unknown extra fields, nested ones too, so they reach the provider', () => {
    const result = validate(
      aSubmissionDetail({ imageUrl: 's3://bucket/frame.png', feature: { audio: true, hdr: 1 } }),
    );
    expect(result.ok && result.submission).toMatchObject({
      imageUrl: 's3://bucket/frame.png',
      feature: { audio: true, hdr: 1 },
    });
  });

  it('keeps __proto__ and constructor extra fields as plain data: forwarded, never a prototype', () => {
    const detail = JSON.parse(
      JSON.stringify(aSubmissionDetail({ constructor: 'c', feature: { audio: false } }))
        .replace('"feature":{', '"feature":{"__proto__":{"x":1},')
        .replace(/^\{/, '{"__proto__":{"feature":{"audio":true},"polluted":1},'),
    );
    const result = validate(detail);
    if (!result.ok) throw new Error('expected a valid submission');
    const job = result.submission;
    expect(Object.getPrototypeOf(job)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(job.feature)).toBe(Object.prototype);
    expect(job.feature?.audio).toBe(false);
    expect(JSON.parse(JSON.stringify(job))).toMatchObject({ constructor: 'c' });
    expect(JSON.stringify(job)).toContain('"__proto__":{"feature":{"audio":true},"polluted":1}');
    expect(JSON.stringify(job.feature)).toContain('"__proto__":{"x":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['zero length', { lengthSec: 0 }, 'detail.lengthSec'],
    ['negative length', { lengthSec: -5 }, 'detail.lengthSec'],
    ['infinite length', { lengthSec: Number.POSITIVE_INFINITY }, 'detail.lengthSec'],
    ['length as a string', { lengthSec: '8' }, 'detail.lengthSec'],
    ['empty resolution', { resolution: '' }, 'detail.resolution'],
    ['resolution that is not short', { resolution: 'x'.repeat(17) }, 'detail.resolution'],
    ['resolution as a number', { resolution: 720 }, 'detail.resolution'],
    ['empty prompt', { prompt: '' }, 'detail.prompt'],
    ['missing prompt', { prompt: undefined }, 'detail.prompt'],
    ['missing userId', { userId: undefined }, 'detail.userId'],
    ['jobId with spaces', { jobId: 'a b' }, 'detail.jobId'],
    ['jobId with surrounding blanks (ids are never trimmed)', { jobId: ' job-1 ' }, 'detail.jobId'],
    ['jobId longer than a FIFO group id', { jobId: 'j'.repeat(129) }, 'detail.jobId'],
    ['audio not a boolean', { feature: { audio: 'yes' } }, 'detail.feature.audio'],
    ['feature not an object', { feature: 'audio' }, 'detail.feature'],
    ['tier that is not a word', { tier: '!!' }, 'detail.tier'],
    ['provider that is not a string', { provider: 42 }, 'detail.provider'],
  ])('rejects %s as invalid_request naming the field', (_case, overrides, path) => {
    const result = validate(aSubmissionDetail(overrides));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe('invalid_request');
    expect(result.fieldErrors.map((e) => e.path)).toContain(path);
  });

  it('rejects a provider the routing table does not know as unknown_provider, listing the known ones', () => {
    const result = validate(aSubmissionDetail({ jobId: 'job-veo', provider: 'veo' }));
    expect(result).toMatchObject({
      ok: false,
      reason: 'unknown_provider',
      jobId: 'job-veo',
      fieldErrors: [
        { path: 'detail.provider', message: 'not a provider of the routing table (auto, fal, replicate)' },
      ],
    });
  });

  it('takes the known providers from the table passed in: a table declaring veo accepts it', () => {
    const result = validateSubmission(aSubmittedEvent(aSubmissionDetail({ provider: 'VEO' })), withVeo);
    expect(result).toMatchObject({ ok: true, submission: { provider: 'veo' } });
  });

  it('does not take inherited names for providers', () => {
    expect(validate(aSubmissionDetail({ provider: 'constructor' }))).toMatchObject({
      reason: 'unknown_provider',
    });
    expect(validate(withField('provider', '__proto__'))).toMatchObject({ reason: 'unknown_provider' });
  });

  it('reports invalid_request when the provider is unknown and another field is wrong too', () => {
    const result = validate(aSubmissionDetail({ provider: 'veo', lengthSec: -1 }));
    expect(result).toMatchObject({ ok: false, reason: 'invalid_request' });
    if (result.ok) return;
    expect(result.fieldErrors.map((e) => e.path)).toEqual(['detail.lengthSec', 'detail.provider']);
  });

  it.each([
    ['null', null],
    ['a string', 'corgi surfing'],
    ['an array', [1, 2]],
    ['absent', undefined],
  ])('rejects a detail that is %s, without a jobId', (_case, detail) => {
    const result = validateSubmission({ ...aSubmittedEvent(), detail }, defaultRoutingTable);
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
