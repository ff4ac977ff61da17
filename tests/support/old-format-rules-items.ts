/**
 * Rules-log items exactly as earlier code wrote them to DynamoDB (main at 22992e9: `decideRulesChange`
 * built a one-level record and `DynamoDbRulesLog` put it as it was), frozen here so that reading them
 * back stays a test (Emmett's upcasting: a stored item is never rewritten, only read into the
 * current record shape). schemaVersion 1, the only rules schema written so far.
 *
 * One `rules#routing` stream: a publication (v1), a rollback to the bundled default (v2, `active:
 * null`), a publication forced past the what-if gate with its report (v3), a shadow candidate (v4)
 * and a canary on 12.5 % (v5), whose table declares a provider (`runway`) no other table has. The
 * tables are canonical JSON under their content ids, as `storedTable` wrote them.
 */

/** The content ids the items carry (what `rules history` prints and `rules export --version` takes). */
export const OLD_RULES_VERSIONS = {
  first: 'old-first@0d151054b9bad1fe',
  active: 'old-auto-to-replicate@c2a19ef9e6638e76',
  shadow: 'old-shadow@e79efc3de0b614ce',
  canary: 'old-canary-runway@e8c8b3b8098e86f6',
} as const;

const FIRST_TABLE =
  '{"providers":{"fal":{"models":{"wan-i2v":{"pricePerSecond":0.05}},"queue":"FalJobQueue"},"replicate":{"models":{"wan-2.1-i2v":{"pricePerSecond":0.09}},"queue":"ReplicateJobQueue"}},"rules":[{"description":"The request names fal explicitly: respect it.","id":"explicit-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"requestedProvider":["fal"]}},{"description":"The request names replicate explicitly: respect it.","id":"explicit-replicate","requireCredits":false,"route":{"model":"wan-2.1-i2v","provider":"replicate"},"when":{"requestedProvider":["replicate"]}},{"description":"Automatic routing: clips of at most 10 s at 720p go to fal wan-i2v; to Replicate wan-2.1-i2v while fal is unhealthy.","fallbacks":[{"model":"wan-2.1-i2v","provider":"replicate"}],"id":"auto-short-720p-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"maxLengthSec":10,"requestedProvider":["auto"],"resolutions":["720p"]}},{"description":"Nothing else is routable yet.","id":"otherwise-no-route","reject":"no_route","when":{}}],"version":"old-first"}';

const ACTIVE_TABLE =
  '{"providers":{"fal":{"models":{"wan-i2v":{"pricePerSecond":0.05}},"queue":"FalJobQueue"},"replicate":{"models":{"wan-2.1-i2v":{"pricePerSecond":0.09}},"queue":"ReplicateJobQueue"}},"rules":[{"description":"The request names fal explicitly: respect it.","id":"explicit-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"requestedProvider":["fal"]}},{"description":"The request names replicate explicitly: respect it.","id":"explicit-replicate","requireCredits":false,"route":{"model":"wan-2.1-i2v","provider":"replicate"},"when":{"requestedProvider":["replicate"]}},{"description":"Automatic routing: clips of at most 10 s at 720p go to fal wan-i2v; to Replicate wan-2.1-i2v while fal is unhealthy.","fallbacks":[{"model":"wan-2.1-i2v","provider":"replicate"}],"id":"auto-short-720p-fal","requireCredits":false,"route":{"model":"wan-2.1-i2v","provider":"replicate"},"when":{"maxLengthSec":10,"requestedProvider":["auto"],"resolutions":["720p"]}},{"description":"Nothing else is routable yet.","id":"otherwise-no-route","reject":"no_route","when":{}}],"version":"old-auto-to-replicate"}';

const SHADOW_TABLE =
  '{"providers":{"fal":{"models":{"wan-i2v":{"pricePerSecond":0.05}},"queue":"FalJobQueue"},"replicate":{"models":{"wan-2.1-i2v":{"pricePerSecond":0.09}},"queue":"ReplicateJobQueue"}},"rules":[{"description":"The request names fal explicitly: respect it.","id":"explicit-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"requestedProvider":["fal"]}},{"description":"The request names replicate explicitly: respect it.","id":"explicit-replicate","requireCredits":false,"route":{"model":"wan-2.1-i2v","provider":"replicate"},"when":{"requestedProvider":["replicate"]}},{"description":"Automatic routing: clips of at most 10 s at 720p go to fal wan-i2v; to Replicate wan-2.1-i2v while fal is unhealthy.","fallbacks":[{"model":"wan-2.1-i2v","provider":"replicate"}],"id":"auto-short-720p-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"maxLengthSec":8,"requestedProvider":["auto"],"resolutions":["720p"]}},{"description":"Nothing else is routable yet.","id":"otherwise-no-route","reject":"no_route","when":{}}],"version":"old-shadow"}';

const CANARY_TABLE =
  '{"providers":{"fal":{"models":{"wan-i2v":{"pricePerSecond":0.05}},"queue":"FalJobQueue"},"replicate":{"models":{"wan-2.1-i2v":{"pricePerSecond":0.09}},"queue":"ReplicateJobQueue"},"runway":{"models":{"gen3":{"pricePerSecond":0.1}},"queue":"RunwayJobQueue"}},"rules":[{"description":"The request names runway explicitly: respect it.","id":"explicit-runway","requireCredits":false,"route":{"model":"gen3","provider":"runway"},"when":{"requestedProvider":["runway"]}},{"description":"The request names fal explicitly: respect it.","id":"explicit-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"requestedProvider":["fal"]}},{"description":"The request names replicate explicitly: respect it.","id":"explicit-replicate","requireCredits":false,"route":{"model":"wan-2.1-i2v","provider":"replicate"},"when":{"requestedProvider":["replicate"]}},{"description":"Automatic routing: clips of at most 10 s at 720p go to fal wan-i2v; to Replicate wan-2.1-i2v while fal is unhealthy.","fallbacks":[{"model":"wan-2.1-i2v","provider":"replicate"}],"id":"auto-short-720p-fal","requireCredits":false,"route":{"model":"wan-i2v","provider":"fal"},"when":{"maxLengthSec":10,"requestedProvider":["auto"],"resolutions":["720p"]}},{"description":"Nothing else is routable yet.","id":"otherwise-no-route","reject":"no_route","when":{}}],"version":"old-canary-runway"}';

export const OLD_RULES_ITEMS: readonly Record<string, unknown>[] = [
  {
    stream: 'rules#routing',
    version: 1,
    schemaVersion: 1,
    type: 'RulesPublished',
    action: 'publish',
    jobId: null,
    recordedAt: '2026-10-01T07:00:00.000Z',
    by: 'ops',
    why: 'old-format test',
    subject: 'old-first@0d151054b9bad1fe',
    forced: false,
    gate: null,
    active: { rulesVersion: OLD_RULES_VERSIONS.first, table: FIRST_TABLE },
    shadow: null,
    canary: null,
    previous: [null],
  },
  {
    stream: 'rules#routing',
    version: 2,
    schemaVersion: 1,
    type: 'RulesPublished',
    action: 'rollback',
    jobId: null,
    recordedAt: '2026-10-01T07:30:00.000Z',
    by: 'ops',
    why: 'old-format test',
    subject: 'the bundled default',
    forced: false,
    gate: null,
    active: null,
    shadow: null,
    canary: null,
    previous: [],
  },
  {
    stream: 'rules#routing',
    version: 3,
    schemaVersion: 1,
    type: 'RulesPublished',
    action: 'publish',
    jobId: null,
    recordedAt: '2026-10-01T09:01:00.000Z',
    by: 'ops',
    why: 'old-format test',
    subject: 'old-auto-to-replicate@c2a19ef9e6638e76',
    forced: true,
    gate: {
      since: '2026-10-01T08:00:00.000Z',
      until: '2026-10-01T09:00:00.000Z',
      scanned: 12,
      changed: 5,
      explicitProviderChanges: 0,
      rejectionRate: { before: 8.33, after: 8.33 },
      cost: { before: 4.8, after: 7.2, delta: 2.4 },
      transitions: [{ from: 'fal/wan-i2v', to: 'replicate/wan-2.1-i2v', count: 5 }],
      violations: ['estimated cost 4.8 → 7.2 (+50% > 5%)'],
    },
    active: { rulesVersion: OLD_RULES_VERSIONS.active, table: ACTIVE_TABLE },
    shadow: null,
    canary: null,
    previous: [null],
  },
  {
    stream: 'rules#routing',
    version: 4,
    schemaVersion: 1,
    type: 'RulesShadowChanged',
    action: 'shadow',
    jobId: null,
    recordedAt: '2026-10-01T09:02:00.000Z',
    by: 'ops',
    why: 'old-format test',
    subject: 'old-shadow@e79efc3de0b614ce',
    forced: false,
    gate: null,
    active: { rulesVersion: OLD_RULES_VERSIONS.active, table: ACTIVE_TABLE },
    shadow: { rulesVersion: OLD_RULES_VERSIONS.shadow, table: SHADOW_TABLE },
    canary: null,
    previous: [null],
  },
  {
    stream: 'rules#routing',
    version: 5,
    schemaVersion: 1,
    type: 'RulesCanaryChanged',
    action: 'canary',
    jobId: null,
    recordedAt: '2026-10-01T09:03:00.000Z',
    by: 'ops',
    why: 'old-format test',
    subject: 'old-canary-runway@e8c8b3b8098e86f6',
    forced: false,
    gate: null,
    active: { rulesVersion: OLD_RULES_VERSIONS.active, table: ACTIVE_TABLE },
    shadow: { rulesVersion: OLD_RULES_VERSIONS.shadow, table: SHADOW_TABLE },
    canary: { rulesVersion: OLD_RULES_VERSIONS.canary, table: CANARY_TABLE, percent: 12.5 },
    previous: [null],
  },
];
