/**
 * Routing-log items exactly as earlier code wrote them to DynamoDB, frozen here so that reading
 * them back stays a test (Emmett's upcasting: a stored item is never rewritten, only read into the
 * current record shape).
 *
 * - `V2_ROUTED`, `V2_NO_ROUTE`, `V2_REPLAY`: schemaVersion 2 as written until the audit index's keys
 *   were derived in the adapter (main at 3775237): `gsi1pk`/`gsi1sk` on every decision, including the
 *   decision a replay copies; the compact explanation `{ v, m, t }`; the payload hash as bytes.
 * - `V1_ROUTED`: schemaVersion 1, the explanation's candidates as maps, `jobId` and `outcome` stored,
 *   the payload hash as an unkeyed SHA-256 in hex (before keyed hashes).
 *
 * The sealed `content` is made-up bytes of a realistic size: nothing here opens it.
 */

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

/** The sealed content every item carries (made-up bytes; nothing here opens it). */
const SEALED_CONTENT = {
  keyId: 'transit#2026-10-01T09#i1',
  iv: bytes('070707070707070707070707'),
  data: bytes(
    '090909090909090909090909090909090909090909090909090909090909090909090909090909090909090909090909090909090909090909090909',
  ),
};

/** The compact trail's first two lines under the seed table: both explicit rules, excluded for an auto job. */
const EXPLICIT_RULES_EXCLUDED = [
  ['explicit-fal', 'fal', 'wan-i2v', 'x', 'requested_provider_mismatch'],
  ['explicit-replicate', 'replicate', 'wan-2.1-i2v', 'x', 'requested_provider_mismatch'],
];

/** The window all of them were recorded in (2026-10-01, 09:00–10:00 UTC). */
export const OLD_ITEMS_WINDOW = { since: '2026-10-01T09:00:00.000Z', until: '2026-10-01T10:00:00.000Z' };

export const V2_ROUTED: Record<string, unknown> = {
  stream: 'job#old-v2-routed',
  version: 1,
  schemaVersion: 2,
  eventId: 'evt-old-v2-routed',
  submittedAt: '2026-10-01T08:59:59Z',
  recordedAt: '2026-10-01T09:00:00.000Z',
  payloadHash: bytes('015b7fd02fc06dc2f09075b8dd7327a07d35d38957da9642d07704bea3db39e6dc'),
  job: '{"jobId":"old-v2-routed","lengthSec":8,"resolution":"720p","tier":"standard","provider":"auto"}',
  gsi1pk: 'fal#2026-10-01#3',
  gsi1sk: '2026-10-01T09:00:00.000Z#job#old-v2-routed',
  type: 'RoutingDecided',
  provider: 'fal',
  model: 'wan-i2v',
  queue: 'FalJobQueue',
  estimatedCost: 0.4,
  explanation: {
    v: '2026-11-25.seed-2@69201bdd2954a7d5',
    m: 'auto-short-720p-fal',
    t: [...EXPLICIT_RULES_EXCLUDED, ['auto-short-720p-fal', 'fal', 'wan-i2v', 's']],
  },
  content: SEALED_CONTENT,
};

export const V2_NO_ROUTE: Record<string, unknown> = {
  stream: 'job#old-v2-no-route',
  version: 1,
  schemaVersion: 2,
  eventId: 'evt-old-v2-no-route',
  submittedAt: '2026-10-01T08:59:59Z',
  recordedAt: '2026-10-01T09:05:00.000Z',
  payloadHash: bytes('018cd6bcf50218f24b9994e8d5368fbb1964c63a6e6affe732fde17df5dd2a44eb'),
  job: '{"jobId":"old-v2-no-route","lengthSec":30,"resolution":"720p","tier":"standard","provider":"auto"}',
  gsi1pk: 'auto#2026-10-01#7',
  gsi1sk: '2026-10-01T09:05:00.000Z#job#old-v2-no-route',
  type: 'RoutingRejected',
  reason: 'no_route',
  explanation: {
    v: '2026-11-25.seed-2@69201bdd2954a7d5',
    m: 'otherwise-no-route',
    t: [
      ...EXPLICIT_RULES_EXCLUDED,
      ['auto-short-720p-fal', 'fal', 'wan-i2v', 'x', 'length_out_of_range', 'lengthSec 30 > 10'],
      ['otherwise-no-route', null, null, 'r'],
    ],
  },
  content: SEALED_CONTENT,
};

export const V2_REPLAY: Record<string, unknown> = {
  type: 'ProjectionReplayRequested',
  stream: 'job#old-v2-routed',
  version: 2,
  schemaVersion: 2,
  recordedAt: '2026-10-01T09:30:00.000Z',
  replayId: 'replay-0123',
  incident: 'INC-OLD',
  requestedBy: 'ops@example.com',
  why: 'an outage',
  replayOf: 1,
  // A replay stored a full copy of the decision it re-sent, index keys included.
  decision: { ...V2_ROUTED },
  previousDispatchId: 'old-v2-routed:v1',
  revision: 0,
};

export const V1_ROUTED: Record<string, unknown> = {
  stream: 'job#old-v1-routed',
  version: 1,
  schemaVersion: 1,
  jobId: 'old-v1-routed',
  eventId: 'evt-old-v1-routed',
  submittedAt: '2026-10-01T08:59:59Z',
  recordedAt: '2026-10-01T09:10:00.000Z',
  payloadHash: '9f2c4e1a7b3d5f6e8a0c2b4d6f8e0a1c3b5d7f9e1a3c5b7d9f1e3a5c7b9d1f3e',
  job: '{"jobId":"old-v1-routed","lengthSec":4,"resolution":"720p","tier":"standard","provider":"auto"}',
  gsi1pk: 'fal#2026-10-01#4',
  gsi1sk: '2026-10-01T09:10:00.000Z#job#old-v1-routed',
  type: 'RoutingDecided',
  outcome: 'routed',
  provider: 'fal',
  model: 'wan-i2v',
  queue: 'FalJobQueue',
  estimatedCost: 0.2,
  explanation: {
    rulesVersion: '2026-11-25.seed-2@69201bdd2954a7d5',
    matchedRule: 'auto-short-720p-fal',
    requestedProvider: 'auto',
    candidates: [
      {
        rule: 'explicit-fal',
        provider: 'fal',
        model: 'wan-i2v',
        verdict: 'excluded',
        reason: 'requested_provider_mismatch',
        detail: 'provider auto',
      },
      {
        rule: 'explicit-replicate',
        provider: 'replicate',
        model: 'wan-2.1-i2v',
        verdict: 'excluded',
        reason: 'requested_provider_mismatch',
        detail: 'provider auto',
      },
      {
        rule: 'auto-short-720p-fal',
        provider: 'fal',
        model: 'wan-i2v',
        verdict: 'selected',
      },
    ],
  },
  content: SEALED_CONTENT,
};
