/**
 * Intake follows the seed's rules, not stricter ones: an explicit provider is respected whatever the
 * resolution or length, `auto` outside the automatic rule is no_route with the explanation, and the
 * set of providers a request may name is the routing table's own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routeJob } from '../../src/commands/route-job.ts';
import type { DecisionRecord } from '../../src/log/routing-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';
import { inMemoryContentPorts, openedRecord } from '../support/content.ts';
import { decisionOf } from '../support/decisions.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

/** A later "rules as data" table: a new provider declared, with its own explicit rule. */
const withVeo = loadRoutingTable({
  version: 'with-veo',
  providers: {
    ...defaultRoutingTable.providers,
    veo: { queue: 'VeoJobQueue', models: { 'veo-3': { pricePerSecond: 0.5 } } },
  },
  rules: [
    {
      id: 'explicit-veo',
      description: 'The request names veo.',
      when: { requestedProvider: ['veo'] },
      route: { provider: 'veo', model: 'veo-3' },
    },
    ...defaultRoutingTable.rules,
  ],
});

const vault = new InMemoryContentVault();

/** The decision recorded for `detail`, its sealed content opened (as the projector reads it). */
async function route(detail: unknown, table: RoutingTable = defaultRoutingTable): Promise<DecisionRecord> {
  const result = await routeJob(
    { type: 'RouteJob', data: { event: aSubmittedEvent(detail) } },
    {
      log: new InMemoryRoutingLog(),
      credits: new InMemoryCreditBalances(),
      ...inMemoryContentPorts(vault),
      table,
      now: () => new Date('2026-11-25T10:00:01.000Z'),
      newId: () => 'generated-id',
    },
  );
  return openedRecord(decisionOf(result.record), vault);
}

const casing = (name: string) =>
  fc.constantFrom(name, name.toUpperCase(), ` ${name} `, name[0]?.toUpperCase() + name.slice(1));

/** Well-formed jobs: any positive length, any short resolution name, any tier (or none). */
const wellFormed = fc.record(
  {
    jobId: fc.stringMatching(/^[A-Za-z0-9._:@/-]{1,128}$/),
    userId: fc.stringMatching(/^[A-Za-z0-9._:@/-]{1,128}$/),
    prompt: fc.string({ minLength: 1, maxLength: 200 }),
    lengthSec: fc.oneof(
      fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
      fc.integer({ min: 1, max: 100_000 }),
    ),
    resolution: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/),
    tier: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/),
    feature: fc.record({ audio: fc.boolean() }, { requiredKeys: [] }),
    referenceImage: fc.string({ maxLength: 50 }),
  },
  { requiredKeys: ['jobId', 'userId', 'prompt', 'lengthSec', 'resolution'] },
);

describe('seed rules at intake', () => {
  it('given any well-formed job naming a provider the table knows, when routed, then it goes to that provider', async () => {
    const tables = fc.constantFrom(defaultRoutingTable, withVeo);
    const jobWithProvider = tables.chain((table) =>
      fc.record({
        table: fc.constant(table),
        job: wellFormed,
        provider: fc.constantFrom(...Object.keys(table.providers)).chain(casing),
      }),
    );
    await fc.assert(
      fc.asyncProperty(jobWithProvider, async ({ table, job, provider }) => {
        const record = await route({ ...job, provider }, table);
        expect(record).toMatchObject({
          type: 'RoutingDecided',
          data: { provider: provider.trim().toLowerCase() },
        });
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['1440p', { resolution: '1440p' }],
    ['900 s', { lengthSec: 900 }],
    ['8K for 3,600 s', { resolution: '8K', lengthSec: 3600 }],
  ])(
    'given provider fal at %s, when routed, then it goes to fal (never invalid_request)',
    async (_case, overrides) => {
      const record = await route(aSubmissionDetail({ provider: 'fal', ...overrides }));
      expect(record).toMatchObject({ type: 'RoutingDecided', data: { provider: 'fal', model: 'wan-i2v' } });
    },
  );

  it('given auto with a resolution no rule lists, when routed, then no_route explains the resolution mismatch', async () => {
    const record = await route(aSubmissionDetail({ provider: 'auto', resolution: '1440p' }));
    expect(record).toMatchObject({ type: 'RoutingRejected', data: { reason: 'no_route', fieldErrors: [] } });
    expect(record.data.explanation?.candidates).toContainEqual(
      expect.objectContaining({
        rule: 'auto-short-720p-fal',
        reason: 'resolution_mismatch',
        detail: 'resolution 1440p',
      }),
    );
  });

  it('given auto with a length out of the automatic range, when routed, then no_route explains the length', async () => {
    const record = await route(aSubmissionDetail({ provider: 'auto', lengthSec: 900 }));
    expect(record).toMatchObject({ type: 'RoutingRejected', data: { reason: 'no_route' } });
    expect(record.data.explanation?.candidates).toContainEqual(
      expect.objectContaining({
        rule: 'auto-short-720p-fal',
        reason: 'length_out_of_range',
        detail: 'lengthSec 900 > 10',
      }),
    );
  });

  it('given no tier, when routed, then tier standard is used and the explanation says it was defaulted', async () => {
    const { tier: _omitted, ...detail } = aSubmissionDetail();
    const record = await route(detail);
    expect(record).toMatchObject({ type: 'RoutingDecided', data: { explanation: { defaulted: ['tier'] } } });
    expect(JSON.parse(record.data.job as string)).toMatchObject({ tier: 'standard' });
  });

  it('given a provider only a newer table declares, when routed with the default table, then unknown_provider; with the newer table, routed to it', async () => {
    expect(await route(aSubmissionDetail({ provider: 'veo' }))).toMatchObject({
      data: { reason: 'unknown_provider' },
    });
    expect(await route(aSubmissionDetail({ provider: 'veo' }), withVeo)).toMatchObject({
      type: 'RoutingDecided',
      data: { provider: 'veo', queue: 'VeoJobQueue' },
    });
  });

  it('given a __proto__ extra field, when routed, then the recorded job forwards it as data', async () => {
    const detail = JSON.parse(
      `{"__proto__":{"provider":"replicate"},${JSON.stringify(aSubmissionDetail()).slice(1)}`,
    );
    const record = await route(detail);
    expect(record).toMatchObject({ type: 'RoutingDecided', data: { provider: 'fal' } });
    expect(JSON.parse(record.data.job as string)).toMatchObject({ provider: 'auto' });
    expect(record.data.job).toContain('"__proto__":{"provider":"replicate"}');
  });
});
