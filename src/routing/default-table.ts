/**
 * The default routing table reproduces the seed specification exactly:
 *   - an explicit `provider` (fal | replicate) is respected, whatever the length or resolution;
 *   - `auto` with lengthSec ≤ 10 and 720p goes to fal / wan-i2v;
 *   - anything else is rejected with `no_route`.
 * While fal is unhealthy (its breaker open), auto jobs fall back to Replicate wan-2.1-i2v; explicit
 * requests are never moved.
 * The models declare no capability limits, so an explicit request is never rejected by them.
 * Prices are list estimates used for the recorded cost estimate; no default rule requires credits.
 */
import { loadRoutingTable } from './routing-table.ts';

export const defaultRoutingTable = loadRoutingTable({
  version: '2026-11-25.seed-2',
  providers: {
    fal: { queue: 'FalJobQueue', models: { 'wan-i2v': { pricePerSecond: 0.05 } } },
    replicate: { queue: 'ReplicateJobQueue', models: { 'wan-2.1-i2v': { pricePerSecond: 0.09 } } },
  },
  rules: [
    {
      id: 'explicit-fal',
      description: 'The request names fal explicitly: respect it.',
      when: { requestedProvider: ['fal'] },
      route: { provider: 'fal', model: 'wan-i2v' },
    },
    {
      id: 'explicit-replicate',
      description: 'The request names replicate explicitly: respect it.',
      when: { requestedProvider: ['replicate'] },
      route: { provider: 'replicate', model: 'wan-2.1-i2v' },
    },
    {
      id: 'auto-short-720p-fal',
      description:
        'Automatic routing: clips of at most 10 s at 720p go to fal wan-i2v; to Replicate wan-2.1-i2v while fal is unhealthy.',
      when: { requestedProvider: ['auto'], maxLengthSec: 10, resolutions: ['720p'] },
      route: { provider: 'fal', model: 'wan-i2v' },
      fallbacks: [{ provider: 'replicate', model: 'wan-2.1-i2v' }],
    },
    {
      id: 'otherwise-no-route',
      description: 'Nothing else is routable yet.',
      when: {},
      reject: 'no_route',
    },
  ],
});
