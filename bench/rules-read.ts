/**
 * Benchmark 6: what reading the published rules adds to the router.
 *
 * The router reads the newest item of `rules#routing` (one consistent Query) once per cache period
 * (RULES_CACHE_SECONDS, default 10 s) per Lambda instance, and parses and re-validates the tables
 * only when the record changed. Measured against DynamoDB Local with a published table (the seed
 * rules plus a Veo provider) and a running shadow and canary, so the record holds three tables:
 *   - cold read: a fresh cache's first current() — Query + parse + validate + content-hash check;
 *   - refresh of an unchanged record: the Query alone (the parsed tables are reused);
 *   - cache hit: current() within the period;
 *   - calls per job amortised over the period at several per-instance arrival rates, and measured:
 *     N jobs through the real router handler, counting its AWS calls with the bench's meter.
 * Runs in its own process with the emulators' endpoints in its environment. Result → BENCH_OUT.
 */

import { randomUUID } from 'node:crypto';
import { createDocumentClient } from '../src/aws/clients.ts';
import { DynamoDbRulesLog } from '../src/aws/dynamodb-rules-log.ts';
import { changeRules } from '../src/commands/change-rules.ts';
import { loadRouterConfig } from '../src/config/router-config.ts';
import { createRouterHandler, routerDependencies } from '../src/handlers/router.ts';
import { handlerEnvironment } from '../src/local/provision.ts';
import { RULES_STREAM, rulesItemOf } from '../src/log/rules-records.ts';
import { createTelemetry } from '../src/observability/telemetry.ts';
import { defaultRoutingTable } from '../src/routing/default-table.ts';
import { loadRoutingTable } from '../src/routing/routing-table.ts';
import { CachedActiveRules, DEFAULT_RULES_TTL_MS } from '../src/rules/active-rules.ts';
import { AwsCallMeter, installAwsCallMeter } from './support/aws-call-meter.ts';
import { provisionBenchStack } from './support/bench-stack.ts';
import { benchLambdaContext, LogCapture, median, progress, round, writeResult } from './support/stats.ts';
import { buildWorkload } from './support/workload.ts';

const READS = 30;
const HITS = 200_000;
const ROUTED_JOBS = 300;

export interface RulesReadResult {
  readonly recordBytes: number;
  readonly coldReadMs: number;
  readonly unchangedRefreshMs: number;
  readonly cacheHitUs: number;
  readonly ttlSeconds: number;
  /** Rules reads per job at N jobs/s per instance: 1 / (N × TTL). */
  readonly amortisedCallsPerJob: Readonly<Record<string, number>>;
  /** Measured: AWS calls of the real router for ROUTED_JOBS jobs, and the rules Queries among them. */
  readonly router: {
    readonly jobs: number;
    readonly callsPerJob: number;
    readonly rulesQueriesPerJob: number;
  };
}

const withVeo = loadRoutingTable({
  ...defaultRoutingTable,
  version: 'bench-with-veo',
  providers: {
    ...defaultRoutingTable.providers,
    veo: { queue: 'VeoJobQueue', models: { 'veo-3-fast': { pricePerSecond: 0.4 } } },
  },
});
const variant = (version: string) => loadRoutingTable({ ...withVeo, version });

export async function runRulesRead(): Promise<RulesReadResult> {
  installAwsCallMeter();
  const stack = await provisionBenchStack(`rules${randomUUID().slice(0, 6)}`);
  const documents = createDocumentClient();
  const log = new DynamoDbRulesLog(documents, stack.tables.routingLog);
  const author = { by: 'bench', why: 'bench' };
  for (const command of [
    { type: 'PublishRules', data: { ...author, table: withVeo, gate: null, force: false } },
    { type: 'ShadowRules', data: { ...author, table: variant('bench-shadow') } },
    { type: 'CanaryRules', data: { ...author, table: variant('bench-canary'), percent: 5 } },
  ] as const) {
    const result = await changeRules(command, { rules: log, now: () => new Date() });
    if (result.outcome !== 'appended') throw new Error(`could not set up the rules: ${result.outcome}`);
  }
  const latest = await log.latest(RULES_STREAM);
  // The item as stored (the record one level), as this figure has always measured it.
  const recordBytes = Buffer.byteLength(JSON.stringify(latest && rulesItemOf(latest)));

  progress('rules read: cold reads, unchanged refreshes, cache hits');
  const timed = async (op: () => Promise<unknown>) => {
    const start = performance.now();
    await op();
    return performance.now() - start;
  };
  const cold: number[] = [];
  for (let i = 0; i < READS; i++) {
    const rules = new CachedActiveRules(log, { defaultTable: defaultRoutingTable, now: Date.now });
    cold.push(await timed(() => rules.current()));
  }
  let clock = 0;
  const cached = new CachedActiveRules(log, {
    defaultTable: defaultRoutingTable,
    now: () => clock,
    ttlMs: 1,
  });
  await cached.current();
  const refresh: number[] = [];
  for (let i = 0; i < READS; i++) {
    clock += 1;
    refresh.push(await timed(() => cached.current()));
  }
  const hitsStart = performance.now();
  for (let i = 0; i < HITS; i++) await cached.current();
  const cacheHitUs = ((performance.now() - hitsStart) * 1000) / HITS;

  progress(`rules read: ${ROUTED_JOBS} jobs through the real router`);
  const router = createRouterHandler(
    routerDependencies(loadRouterConfig(handlerEnvironment(stack))),
    createTelemetry('router', stack.stage),
  );
  const events = buildWorkload(ROUTED_JOBS, { runId: `rr${randomUUID().slice(0, 4)}` }).events;
  const meter = new AwsCallMeter();
  const logs = new LogCapture();
  try {
    for (const [i, event] of events.entries())
      await meter.measure(() => router(event, benchLambdaContext('router', `rules-${i}`)));
  } finally {
    logs.restore();
  }
  const { calls, totalCalls } = meter.snapshot();
  const ttlSeconds = DEFAULT_RULES_TTL_MS / 1000;
  documents.destroy();
  return {
    recordBytes,
    coldReadMs: round(median(cold), 2),
    unchangedRefreshMs: round(median(refresh), 2),
    cacheHitUs: round(cacheHitUs, 3),
    ttlSeconds,
    amortisedCallsPerJob: Object.fromEntries(
      [1, 10, 100].map((rate) => [`${rate} jobs/s per instance`, round(1 / (rate * ttlSeconds), 4)]),
    ),
    router: {
      jobs: events.length,
      callsPerJob: round(totalCalls / events.length, 4),
      rulesQueriesPerJob: round((calls['DynamoDB.Query'] ?? 0) / events.length, 4),
    },
  };
}

if (import.meta.main) writeResult(await runRulesRead());
