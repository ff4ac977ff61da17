/**
 * The benchmark workload: a deterministic, realistic mix of `video.job.submitted` events.
 *
 * Of the unique jobs: 55 % auto → fal (≤ 10 s, 720p), 15 % explicit fal, 15 % explicit replicate,
 * 10 % auto but unroutable (no_route), 3 % malformed (invalid_request), 2 % unknown provider. On top,
 * 5 % of all events are duplicates: an exact redelivery of an earlier event (same id, same detail),
 * as EventBridge's at-least-once delivery produces. Seeded, so every run sees the same mix.
 *
 * The large-payload mix (`largeShare`, e.g. 0.1) adds to that share of the unique jobs an extra
 * field of 100–180 KB (an inline reference image), drawn from a second seeded stream so the rest of
 * the mix is identical to the plain run's.
 */
import { SUBMISSION_SOURCE, type SubmittedEvent } from '../../src/intake/submission.ts';

export type JobKind =
  | 'auto-fal'
  | 'explicit-fal'
  | 'explicit-replicate'
  | 'no-route'
  | 'invalid'
  | 'unknown-provider';

export const MIX: ReadonlyArray<readonly [JobKind, number]> = [
  ['auto-fal', 0.55],
  ['explicit-fal', 0.15],
  ['explicit-replicate', 0.15],
  ['no-route', 0.1],
  ['invalid', 0.03],
  ['unknown-provider', 0.02],
];
export const DUPLICATE_SHARE = 0.05;

export interface BenchEvent extends SubmittedEvent {
  readonly id: string;
  readonly detail: Record<string, unknown>;
}

export interface Workload {
  /** Every event in delivery order, duplicates included. */
  readonly events: readonly BenchEvent[];
  readonly unique: number;
  readonly duplicates: number;
  readonly byKind: Readonly<Record<JobKind, number>>;
  /** Unique jobs carrying a large extra field (0 without `largeShare`). */
  readonly large: number;
}

/** mulberry32: a tiny seeded PRNG, so the mix is identical across runs and machines. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROMPTS = [
  'corgi surfing a big wave at sunset',
  'a timelapse of a city skyline from dusk to night, cinematic, 35mm',
  'two astronauts playing chess on the moon, slow dolly in',
  'watercolor fox running through a snowy forest',
  'product shot of a sneaker rotating on a turntable, studio light',
];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

function detailFor(kind: JobKind, jobId: string, random: () => number): Record<string, unknown> {
  const base = {
    jobId,
    userId: `user-${1 + Math.floor(random() * 500)}`,
    prompt: pick(random, PROMPTS),
    tier: pick(random, ['standard', 'standard', 'pro']),
  };
  switch (kind) {
    case 'auto-fal':
      return { ...base, lengthSec: 2 + Math.floor(random() * 9), resolution: '720p', provider: 'auto' };
    case 'explicit-fal':
      return {
        ...base,
        lengthSec: 4 + Math.floor(random() * 20),
        resolution: pick(random, ['720p', '1080p']),
        provider: 'fal',
      };
    case 'explicit-replicate':
      return {
        ...base,
        lengthSec: 4 + Math.floor(random() * 20),
        resolution: pick(random, ['480p', '720p', '1080p']),
        provider: 'replicate',
        feature: { audio: random() < 0.3 },
      };
    case 'no-route':
      return random() < 0.5
        ? { ...base, lengthSec: 12 + Math.floor(random() * 40), resolution: '720p', provider: 'auto' }
        : { ...base, lengthSec: 5, resolution: '1080p', provider: 'auto' };
    case 'invalid':
      return random() < 0.5
        ? { ...base, prompt: '', lengthSec: -3, resolution: '720p' }
        : { jobId, userId: base.userId, resolution: '8k', lengthSec: 'ten' };
    case 'unknown-provider':
      return { ...base, lengthSec: 8, resolution: '720p', provider: 'veo' };
  }
}

function withLargeField(
  detail: Record<string, unknown>,
  random: () => number,
  share: number,
  onLarge: () => void,
): Record<string, unknown> {
  if (random() >= share) return detail;
  onLarge();
  const bytes =
    LARGE_PAYLOAD_BYTES.min + Math.floor(random() * (LARGE_PAYLOAD_BYTES.max - LARGE_PAYLOAD_BYTES.min));
  return { ...detail, referenceImage: `data:image/png;base64,${'A'.repeat(bytes)}` };
}

function kindFor(random: () => number): JobKind {
  let roll = random();
  for (const [kind, share] of MIX) {
    if (roll < share) return kind;
    roll -= share;
  }
  return 'auto-fal';
}

/** Smallest and largest extra field of a large-payload job (bytes). */
export const LARGE_PAYLOAD_BYTES = { min: 100_000, max: 180_000 } as const;

/** `total` events, of which DUPLICATE_SHARE are redeliveries of earlier ones. */
export function buildWorkload(
  total: number,
  options: { seed?: number; runId?: string; largeShare?: number } = {},
): Workload {
  const random = seededRandom(options.seed ?? 20261125);
  const large = seededRandom((options.seed ?? 20261125) + 1);
  const largeShare = options.largeShare ?? 0;
  const runId = options.runId ?? 'bench';
  const duplicates = Math.round(total * DUPLICATE_SHARE);
  const unique = total - duplicates;
  const byKind = Object.fromEntries(MIX.map(([kind]) => [kind, 0])) as Record<JobKind, number>;
  const events: BenchEvent[] = [];
  let largeJobs = 0;
  for (let i = 0; i < unique; i++) {
    const kind = kindFor(random);
    byKind[kind]++;
    const jobId = `${runId}-${String(i).padStart(6, '0')}`;
    events.push({
      version: '0',
      id: `evt-${runId}-${i}`,
      'detail-type': 'video.job.submitted',
      source: SUBMISSION_SOURCE,
      account: '123456789012',
      time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + i * 137).toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: withLargeField(detailFor(kind, jobId, random), large, largeShare, () => largeJobs++),
    } as BenchEvent);
  }
  // Redeliveries land somewhere after their original, as a retry would.
  for (let d = 0; d < duplicates; d++) {
    const originalIndex = Math.floor(random() * events.length);
    const original = events[originalIndex] as BenchEvent;
    const at = originalIndex + 1 + Math.floor(random() * (events.length - originalIndex));
    events.splice(at, 0, structuredClone(original));
  }
  return { events, unique, duplicates, byKind, large: largeJobs };
}
