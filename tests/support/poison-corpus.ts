/**
 * The poison and invalid inputs of the suite, each carrying recognisable user content (a canary),
 * for the test that scans every log line the handlers write while processing them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SubmittedEvent } from '../../src/intake/submission.ts';
import { MAX_DETAIL_BYTES } from '../../src/intake/submission.ts';
import { nested, withField } from './hostile-json.ts';
import { aSubmissionDetail, aSubmittedEvent } from './submissions.ts';

/** Distinct marker strings: none of them may appear in any log line. */
export const CANARY = {
  prompt: 'CANARY prompt: a heron reading poetry 7f3a',
  userId: 'canary-user-7f3a',
  extra: 'canary-extra-field-7f3a',
  provider: 'canary-provider-7f3a',
} as const;

const canaryDetail = (overrides: Record<string, unknown> = {}) =>
  aSubmissionDetail({
    prompt: CANARY.prompt,
    userId: CANARY.userId,
    referenceImage: CANARY.extra,
    ...overrides,
  });

const deepWithCanary = (levels: number) => {
  const detail = canaryDetail();
  detail.meta = { leaf: nested(levels), note: CANARY.extra };
  return detail;
};

/** The sample events shipped in events/ (their prompts and userIds are scanned for too). */
export function sampleSubmissions(): SubmittedEvent[] {
  const directory = fileURLToPath(new URL('../../events/', import.meta.url));
  return readdirSync(directory)
    .filter((name) => name.startsWith('submitted-'))
    .map((name) => JSON.parse(readFileSync(`${directory}${name}`, 'utf8')) as SubmittedEvent);
}

/** Inbound events that are invalid, hostile or refused, each holding the canaries. */
export function poisonSubmissions(): [string, SubmittedEvent][] {
  const protoExtra = withField('__proto__', { polluted: CANARY.extra });
  Object.assign(protoExtra, { prompt: CANARY.prompt, userId: CANARY.userId });
  return [
    ['the prompt text as the whole detail', aSubmittedEvent(CANARY.prompt)],
    [
      'raw, broken JSON text as the detail',
      aSubmittedEvent(`{"prompt": "${CANARY.prompt}", "userId": "${CANARY.userId}`),
    ],
    [
      'a userId that is not an identifier',
      aSubmittedEvent(canaryDetail({ userId: `${CANARY.userId} with spaces` })),
    ],
    ['a jobId made of the prompt', aSubmittedEvent(canaryDetail({ jobId: CANARY.prompt }))],
    ['an unknown provider', aSubmittedEvent(canaryDetail({ provider: CANARY.provider }))],
    ['a resolution made of content', aSubmittedEvent(canaryDetail({ resolution: CANARY.extra }))],
    ['a tier made of content', aSubmittedEvent(canaryDetail({ tier: CANARY.prompt }))],
    [
      'wrong types everywhere',
      aSubmittedEvent(canaryDetail({ lengthSec: CANARY.prompt, feature: { audio: CANARY.extra } })),
    ],
    ['a detail nested 5,000 levels deep', aSubmittedEvent(deepWithCanary(5_000))],
    [
      'a detail larger than the bound',
      aSubmittedEvent(canaryDetail({ padding: CANARY.extra.repeat(MAX_DETAIL_BYTES / 16) })),
    ],
    ['a __proto__ extra field', aSubmittedEvent(protoExtra)],
    ['the wrong source', aSubmittedEvent(canaryDetail(), { source: CANARY.extra })],
    ['a detail-type made of content', aSubmittedEvent(canaryDetail(), { 'detail-type': CANARY.prompt })],
    [
      'an event without id or time',
      { source: 'frontend.api', 'detail-type': 'video.job.submitted', detail: canaryDetail() },
    ],
  ];
}

/** A valid submission holding the canaries (the normal path must not log content either). */
export const aCanarySubmission = (overrides: Record<string, unknown> = {}) =>
  aSubmittedEvent(canaryDetail(overrides));
