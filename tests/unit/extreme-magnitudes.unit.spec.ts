/**
 * Zero crashes at extreme magnitudes. The contract accepts any positive finite `lengthSec` (1e308,
 * 5e-324) and a table any non-negative price and length bound, so every derived number — the cost
 * estimate lengthSec × price, the credit check, what-if and shadow totals, the publish gate's
 * percentages — must stay finite and storable, or be recorded as not computable (null). These
 * properties drive such magnitudes through every rule path: auto (with fallbacks and health),
 * explicit, credit-requiring and capability tables, revisions, what-if and the publish gate,
 * shadow and canary. Every appended record is marshalled exactly as the DynamoDB document client
 * marshals it (which refuses Infinity, NaN and numbers beyond Number.MAX_SAFE_INTEGER), and every
 * number in it is checked against DynamoDB's own number range.
 *
 * Generated inputs in total: RUNS × 5 properties = 12,500 (the issue asks for 10,000 or more).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { documentMarshallOptions } from '../../src/aws/clients.ts';
import { renderCost, renderCostChange } from '../../src/cli/output.ts';
import { decisionSummary } from '../../src/cli/verbs/history.ts';
import { renderWhatIf } from '../../src/cli/verbs/what-if.ts';
import { reviseRouting } from '../../src/commands/revise-routing.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import type { DecisionRecord, RoutingLogRecord } from '../../src/log/routing-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { AppendOptions, RoutingLog } from '../../src/ports/routing-log.ts';
import { whatIf } from '../../src/queries/what-if.ts';
import { MAX_ESTIMABLE_COST } from '../../src/routing/cost.ts';
import { decide, type HealthContext } from '../../src/routing/decide.ts';
import { loadRoutingTable, type RoutingTable } from '../../src/routing/routing-table.ts';
import type { ActiveRules, RulesReader } from '../../src/rules/active-rules.ts';
import { evaluateGate } from '../../src/rules/publish-gate.ts';
import { shadowReport } from '../../src/rules/shadow-report.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { aSubmittedEvent } from '../support/submissions.ts';

const RUNS = 2_500;
// Thousands of generated runs per property: seconds on an idle machine, more on a shared one.
const TIMEOUT_MS = 180_000;
const NOW = new Date('2026-11-25T10:00:01.000Z');
const WINDOW = { since: '2026-11-24T10:00:00.000Z', until: '2026-11-25T10:00:00.000Z' };

// DynamoDB numbers: magnitude at most 9.9999999999999999999999999999999999999E+125, at least 1E-130.
const DYNAMODB_MAX = 1e126; // exclusive: the largest is 9.99…9e125 (38 digits)
const DYNAMODB_MIN = 1e-130;

/** Every N of a marshalled item, walked without recursion on the data's depth limit (≤ 32 levels). */
function numbersIn(value: AttributeValue, found: string[] = []): string[] {
  if (value.N !== undefined) found.push(value.N);
  for (const element of value.L ?? []) numbersIn(element, found);
  for (const element of Object.values(value.M ?? {})) numbersIn(element, found);
  for (const n of value.NS ?? []) found.push(n);
  return found;
}

/** Marshals a record as the production document client would, and checks DynamoDB's number range. */
function storable(record: RoutingLogRecord): void {
  const item = marshall(record, documentMarshallOptions);
  for (const text of numbersIn({ M: item })) {
    const magnitude = Math.abs(Number(text));
    if (
      !Number.isFinite(magnitude) ||
      magnitude >= DYNAMODB_MAX ||
      (magnitude !== 0 && magnitude < DYNAMODB_MIN)
    )
      throw new Error(`number ${text} is outside DynamoDB's range`);
  }
}

/** The in-memory log, refusing what DynamoDB would refuse. */
class MarshallingRoutingLog implements RoutingLog {
  readonly inner = new InMemoryRoutingLog();
  readonly appended: RoutingLogRecord[] = [];
  async appendToStream(stream: string, records: readonly RoutingLogRecord[], options: AppendOptions) {
    for (const record of records) storable(record);
    const version = await this.inner.appendToStream(stream, records, options);
    this.appended.push(...records);
    return version;
  }
  readStream(stream: string) {
    return this.inner.readStream(stream);
  }
}

/** Every number of a plain value is finite (walked iteratively: no recursion on generated data). */
function expectFiniteNumbers(value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'number') expect(Number.isFinite(next), `non-finite number ${next}`).toBe(true);
    else if (next && typeof next === 'object') pending.push(...Object.values(next));
  }
}

const extreme = fc.oneof(
  fc.constantFrom(
    Number.MAX_VALUE,
    1e308,
    1.7976931348623157e308,
    1e300,
    1e126,
    1e125,
    1e16,
    Number.MAX_SAFE_INTEGER,
    1e15,
    1e15 + 1,
    10,
    10.000000000000002,
    8,
    1,
    0.5,
    1e-7,
    1e-130,
    1e-300,
    Number.MIN_VALUE,
  ),
  fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }),
);
const price = fc.oneof(fc.constant(0), extreme);
const balance = fc.oneof(fc.constant(null), fc.constant(0), extreme);

const submission = fc.record({
  jobId: fc.stringMatching(/^[A-Za-z0-9-]{1,24}$/),
  lengthSec: extreme,
  resolution: fc.constantFrom('720p', '1080p', '4k'),
  tier: fc.constantFrom('standard', 'pro'),
  provider: fc.constantFrom('auto', 'fal', 'replicate', ' AUTO '),
  audio: fc.boolean(),
});
type Submission = typeof submission extends fc.Arbitrary<infer T> ? T : never;

const detailOf = (job: Submission) => ({
  jobId: job.jobId,
  userId: 'user-1',
  prompt: 'corgi surfing',
  lengthSec: job.lengthSec,
  resolution: job.resolution,
  tier: job.tier,
  provider: job.provider,
  feature: { audio: job.audio },
});

/**
 * A table of every rule path: explicit rules, an auto rule with a fallback, optionally requiring
 * credits, with extreme prices and capability bounds (length range, audio) on the models.
 */
const table = fc
  .record({
    falPrice: price,
    replicatePrice: price,
    requireCredits: fc.boolean(),
    maxLengthSec: fc.option(extreme, { nil: undefined }),
    minLengthSec: fc.option(extreme, { nil: undefined }),
    ruleMaxLengthSec: fc.option(extreme, { nil: undefined }),
    audio: fc.option(fc.boolean(), { nil: undefined }),
    whenAllUnhealthy: fc.constantFrom('route_primary', 'reject'),
    label: fc.constantFrom('a', 'b', 'c'),
  })
  .map((t) =>
    loadRoutingTable({
      version: `extreme-${t.label}`,
      providers: {
        fal: {
          queue: 'FalJobQueue',
          models: {
            'wan-i2v': {
              pricePerSecond: t.falPrice,
              ...(t.maxLengthSec !== undefined ? { maxLengthSec: t.maxLengthSec } : {}),
              ...(t.audio !== undefined ? { audio: t.audio } : {}),
            },
          },
        },
        replicate: {
          queue: 'ReplicateJobQueue',
          models: {
            'wan-2.1-i2v': {
              pricePerSecond: t.replicatePrice,
              ...(t.minLengthSec !== undefined ? { minLengthSec: t.minLengthSec } : {}),
            },
          },
        },
      },
      rules: [
        {
          id: 'explicit-fal',
          description: 'fal named',
          when: { requestedProvider: ['fal'] },
          route: { provider: 'fal', model: 'wan-i2v' },
          requireCredits: t.requireCredits,
        },
        {
          id: 'explicit-replicate',
          description: 'replicate named',
          when: { requestedProvider: ['replicate'] },
          route: { provider: 'replicate', model: 'wan-2.1-i2v' },
          requireCredits: t.requireCredits,
        },
        {
          id: 'auto',
          description: 'auto, with a fallback',
          when: {
            requestedProvider: ['auto'],
            ...(t.ruleMaxLengthSec !== undefined ? { maxLengthSec: t.ruleMaxLengthSec } : {}),
          },
          route: { provider: 'fal', model: 'wan-i2v' },
          fallbacks: [{ provider: 'replicate', model: 'wan-2.1-i2v' }],
          requireCredits: t.requireCredits,
          whenAllUnhealthy: t.whenAllUnhealthy,
        },
        { id: 'otherwise', description: 'nothing else', when: {}, reject: 'no_route' },
      ],
    }),
  );

const rulesReader = (rules: ActiveRules): RulesReader => ({ current: async () => rules });

const health = fc
  .record({
    fal: fc.constantFrom('healthy', 'unhealthy', 'probe'),
    replicate: fc.constantFrom('healthy', 'unhealthy'),
  })
  .map(
    (h): HealthContext => ({
      read: 'ok',
      candidates: {
        'fal#wan-i2v': { health: h.fal, breaker: 'fal', version: 3 },
        'replicate#wan-2.1-i2v': { health: h.replicate, breaker: 'replicate', version: 1 },
      },
    }),
  );

async function routed(job: Submission, rules: ActiveRules, credit: number | null) {
  const log = new MarshallingRoutingLog();
  const credits = new InMemoryCreditBalances(credit === null ? {} : { 'user-1': credit });
  const result = await routeJob(
    { type: 'RouteJob', data: { event: aSubmittedEvent(detailOf(job)) } },
    {
      log,
      credits,
      table: rules.table,
      rules: rulesReader(rules),
      ...inMemoryContentPorts(new InMemoryContentVault()),
      now: () => NOW,
      newId: () => 'generated-id',
    },
  );
  return { log, result };
}

const fixed = (t: RoutingTable): ActiveRules => ({
  table: t,
  shadow: null,
  canary: null,
  source: 'published',
  recordVersion: 1,
});

describe('extreme magnitudes never crash and every derived number is finite or not computable', () => {
  it(
    'given any accepted submission and any table (auto, explicit, credits, capabilities), when routed, then one storable decision is recorded and its cost is finite or null',
    async () => {
      await fc.assert(
        fc.asyncProperty(submission, table, balance, async (job, t, credit) => {
          const { log, result } = await routed(job, fixed(t), credit);
          expect(result.outcome).toBe('recorded');
          const [record] = log.appended;
          expect(record).toBeDefined();
          if (record?.type === 'RoutingDecided') {
            const { estimatedCost } = record.data;
            if (estimatedCost === null) {
              const price = t.providers[record.data.provider]?.models[record.data.model]
                ?.pricePerSecond as number;
              expect(
                job.lengthSec * price > MAX_ESTIMABLE_COST || !Number.isFinite(job.lengthSec * price),
              ).toBe(true);
            } else expect(Number.isFinite(estimatedCost) && estimatedCost <= MAX_ESTIMABLE_COST).toBe(true);
            // A rule requiring credits never routes on a cost it could not compute.
            if (record.data.explanation.creditBalance !== undefined) expect(estimatedCost).not.toBeNull();
            expect(decisionSummary(record)).toMatch(/credits/);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'given a shadow and a canary candidate of extreme prices, when routed, then the decision and the shadow result are storable',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          submission,
          table,
          table,
          table,
          fc.integer({ min: 0, max: 100 }),
          balance,
          async (job, active, shadow, canary, percent, credit) => {
            const rules: ActiveRules = { ...fixed(active), shadow, canary: { table: canary, percent } };
            const { log, result } = await routed(job, rules, credit);
            expect(result.outcome).toBe('recorded');
            const record = log.appended[0] as DecisionRecord;
            expect(record.data.shadow).toBeDefined();
            const report = shadowReport([record, record]);
            expectFiniteNumbers(report);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'given a routed job of extreme length, when its provider fails terminally, then the revision is storable',
    async () => {
      await fc.assert(
        fc.asyncProperty(submission, table, async (job, t) => {
          const { log } = await routed({ ...job, provider: 'auto' }, fixed(t), null);
          const decision = log.appended[0] as DecisionRecord;
          if (decision.type !== 'RoutingDecided') return;
          const revised = await reviseRouting(
            {
              signalId: 'sig-1',
              at: '2026-11-25T10:05:00.000Z',
              jobId: decision.metadata.jobId,
              dispatchId: `${decision.metadata.jobId}:v1`,
              provider: decision.data.provider,
              model: decision.data.model,
              outcome: 'failed_terminal',
            },
            { log, rules: rulesReader(fixed(t)) },
          );
          expect(['revised', 'ignored']).toContain(revised.outcome);
          expect(log.appended.length).toBeLessThanOrEqual(2);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'given decisions of extreme costs, when a candidate is what-if evaluated and gated, then every total and rate is finite and renders with its unit',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(submission, { minLength: 1, maxLength: 6 }),
          table,
          table,
          balance,
          async (jobs, before, candidate, credit) => {
            const records: DecisionRecord[] = [];
            for (const job of jobs) {
              const { log } = await routed(job, fixed(before), credit);
              records.push(log.appended[0] as DecisionRecord);
            }
            const { summary } = whatIf(records, candidate, () => credit);
            expectFiniteNumbers(summary);
            expect(renderWhatIf(summary, ['fal'])).toMatch(/credits/);
            expect(renderCostChange(summary.cost)).toMatch(/credits/);
            const gate = evaluateGate(
              records,
              candidate,
              () => credit,
              { maxRejectionRateIncrease: 1, maxCostIncrease: 5 },
              WINDOW,
            );
            expectFiniteNumbers(gate);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'given any health read, when an extreme job is decided, then the decision is total and its cost finite or null',
    () => {
      fc.assert(
        fc.property(submission, table, health, balance, (job, t, read, credit) => {
          const decision = decide(
            { ...detailOf(job), provider: job.provider.trim().toLowerCase() },
            {
              table: t,
              health: read,
              ...(t.rules.some((r) => 'route' in r && r.requireCredits) ? { creditBalance: credit } : {}),
            },
          );
          if (decision.outcome === 'routed') {
            expect(decision.estimatedCost === null || Number.isFinite(decision.estimatedCost)).toBe(true);
            expect(renderCost(decision.estimatedCost)).toMatch(/credits/);
          }
          expectFiniteNumbers(decision.explanation.candidates);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );
});
