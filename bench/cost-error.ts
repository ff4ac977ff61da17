/**
 * Benchmark: the cost estimate's error (issue 21: "`costUsd` from completions is compared with the
 * estimate. Report the error in the bench and in `what-if`").
 *
 * A seeded, deterministic workload through the real code paths, over the in-memory ports (no
 * emulator: the figures are exact, not timings): BENCH_COST_JOBS jobs (half `auto`, a quarter
 * explicit fal, a quarter explicit Replicate; 3–10 s clips at 720p) are routed by RouteJob under a
 * table whose auto rule says `prefer: "cost"` (so every candidate is quoted, `costEstimateUsd`
 * included); each routed job then completes through HandleProviderSignal — the HealthSignals
 * function's command — reporting `runMs` and a `costUsd` drawn from a documented synthetic billing
 * model per provider (BILLING: a markup, a fixed overhead in billed seconds, a uniform noise). The
 * completions are counted in the event-time signal windows, as in AWS.
 *
 * Measured per model: each completion's relative error against the quote recorded for its selected
 * candidate — mean absolute error and bias (mean signed error) — and the per-output-second error the
 * windows give (`costErrorOf`, what `what-if --rules` prints), checked against the same figure
 * computed independently from the workload: a mismatch fails the bench.
 *
 * Runs in its own process (run.ts); result → BENCH_OUT.
 */
import { handleProviderSignal } from '../src/commands/handle-provider-signal.ts';
import { type RouteJobDependencies, routeJob } from '../src/commands/route-job.ts';
import { ContentKeyRing } from '../src/content/content-key-ring.ts';
import { PayloadHasher } from '../src/content/payload-hasher.ts';
import type { RoutingDecidedRecord } from '../src/log/routing-records.ts';
import { InMemoryContentVault } from '../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../src/memory/in-memory-credit-balances.ts';
import { InMemoryKeyService } from '../src/memory/in-memory-key-service.ts';
import { InMemoryProviderHealthStore } from '../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../src/memory/in-memory-routing-log.ts';
import { InMemorySignalWindows } from '../src/memory/in-memory-signal-windows.ts';
import { CachedEtaReader } from '../src/provider-health/eta-cache.ts';
import { ATTEMPT_DETAIL_TYPE, parseHealthSignal } from '../src/provider-health/signals.ts';
import { SignalWindowCounter } from '../src/provider-health/window-counting.ts';
import { costErrors } from '../src/queries/what-if.ts';
import { defaultRoutingTable } from '../src/routing/default-table.ts';
import { loadRoutingTable, type RoutingTable } from '../src/routing/routing-table.ts';
import { fixedRules } from '../src/rules/active-rules.ts';
import { progress, round, writeResult } from './support/stats.ts';
import { seededRandom } from './support/workload.ts';

export const COST_JOBS = Number(process.env.BENCH_COST_JOBS ?? 600);
const SEED = 21;
const T0 = Date.parse('2026-12-01T12:00:00.000Z');
/** Submissions this far apart (event time): 600 jobs span 60 s, completions follow their run. */
const SPACING_MS = 100;
/** One credit is one US dollar in the bench table (`usdPerCredit`). */
const USD_PER_CREDIT = 1;

/**
 * The synthetic provider billing the completions report: charged = (lengthSec + overheadSec) ×
 * price per second × usdPerCredit × (1 + markup) × (1 + noise), noise uniform in ±noise. Not a claim
 * about any provider's real prices: a known error for the pipeline to find.
 */
export const BILLING: Readonly<Record<string, { markup: number; overheadSec: number; noise: number }>> = {
  fal: { markup: 0.06, overheadSec: 0, noise: 0.04 },
  replicate: { markup: -0.02, overheadSec: 1.5, noise: 0.08 },
};
/** Run times per provider (ms): base + per output second, uniform ±20 %. */
const RUN_MS: Readonly<Record<string, { base: number; perSec: number }>> = {
  fal: { base: 20_000, perSec: 6_000 },
  replicate: { base: 35_000, perSec: 4_000 },
};

export interface ModelCostError {
  readonly provider: string;
  readonly model: string;
  readonly completions: number;
  /** Completions whose decision recorded a quote with a dollar estimate for the selected candidate. */
  readonly quoted: number;
  readonly chargedUsd: number;
  readonly estimatedUsd: number;
  /** Mean |charged − estimate| ÷ estimate over the quoted completions, and the mean signed error. */
  readonly meanAbsError: number;
  readonly bias: number;
  readonly meanAbsErrorUsd: number;
  /** The windows' per-output-second error (what-if's figure), and the same computed from the workload. */
  readonly windowsError: number | null;
  readonly expectedError: number;
}

export interface CostErrorResult {
  readonly jobs: number;
  readonly routed: number;
  readonly seed: number;
  readonly billing: typeof BILLING;
  readonly models: readonly ModelCostError[];
}

/** The seed table with a dollar rate and its auto rule preferring cost (so every candidate is quoted). */
export function costBenchTable(): RoutingTable {
  const table = structuredClone(defaultRoutingTable) as unknown as Record<string, unknown> & {
    rules: Record<string, unknown>[];
  };
  return loadRoutingTable({
    ...table,
    version: 'bench-cost-error',
    usdPerCredit: USD_PER_CREDIT,
    rules: table.rules.map((r) => (r.id === 'auto-short-720p-fal' ? { ...r, prefer: 'cost' } : r)),
  });
}

const stats = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;

export async function runCostError(jobs = COST_JOBS): Promise<CostErrorResult> {
  const random = seededRandom(SEED);
  const table = costBenchTable();
  const rules = fixedRules(table);
  const log = new InMemoryRoutingLog();
  const windows = new InMemorySignalWindows();
  const clock = { now: T0 };
  const vault = new InMemoryContentVault();
  const keys = new InMemoryKeyService();
  const router: RouteJobDependencies = {
    log,
    credits: new InMemoryCreditBalances(),
    table,
    rules,
    contentKeys: new ContentKeyRing(vault, keys, { stage: 'bench' }),
    payloadHashes: new PayloadHasher(vault, keys, { stage: 'bench' }),
    now: () => new Date(clock.now),
    newId: () => 'bench-id',
    eta: { reader: new CachedEtaReader({ windows }, { ttlMs: 0 }) },
  };
  const counter = new SignalWindowCounter({ windows, now: () => clock.now });
  const signals = {
    store: new InMemoryProviderHealthStore(log),
    revise: { log, rules },
    windows: counter,
  };
  type Completion = { atMs: number; decision: RoutingDecidedRecord; costUsd: number; runMs: number };
  const completions: Completion[] = [];
  for (let i = 0; i < jobs; i++) {
    clock.now = T0 + i * SPACING_MS;
    const pick = random();
    const provider = pick < 0.5 ? 'auto' : pick < 0.75 ? 'fal' : 'replicate';
    const lengthSec = 3 + Math.floor(random() * 8);
    const detail = {
      jobId: `cost-${i}`,
      userId: `u-${i % 50}`,
      prompt: 'bench clip',
      lengthSec,
      resolution: '720p',
      provider,
    };
    const event = {
      id: `cost-event-${i}`,
      source: 'frontend.api',
      'detail-type': 'video.job.submitted',
      time: new Date(clock.now).toISOString(),
      detail,
    };
    const { record } = await routeJob({ type: 'RouteJob', data: { event } }, router);
    if (record.type !== 'RoutingDecided') continue;
    const billing = BILLING[record.provider] ?? { markup: 0, overheadSec: 0, noise: 0 };
    const price = table.providers[record.provider]?.models[record.model]?.pricePerSecond ?? 0;
    const noise = (random() * 2 - 1) * billing.noise;
    const costUsd =
      Math.round(
        (lengthSec + billing.overheadSec) * price * USD_PER_CREDIT * (1 + billing.markup) * (1 + noise) * 1e6,
      ) / 1e6;
    const run = RUN_MS[record.provider] ?? { base: 30_000, perSec: 5_000 };
    const runMs = Math.round((run.base + run.perSec * lengthSec) * (0.8 + random() * 0.4));
    completions.push({ atMs: clock.now + runMs, decision: record, costUsd, runMs });
  }
  progress(`cost error: ${completions.length} completions with costUsd through HandleProviderSignal`);
  completions.sort((a, b) => a.atMs - b.atMs);
  for (const { atMs, decision, costUsd, runMs } of completions) {
    clock.now = atMs;
    const time = new Date(atMs).toISOString();
    const parsed = parseHealthSignal({
      id: `done-${decision.jobId}`,
      'detail-type': ATTEMPT_DETAIL_TYPE,
      time,
      detail: {
        jobId: decision.jobId,
        provider: decision.provider,
        model: decision.model,
        dispatchId: `${decision.jobId}:v1`,
        outcome: 'succeeded',
        latencyMs: runMs,
        runMs,
        costUsd,
        ts: time,
      },
    });
    if (!parsed.ok) throw new Error(`bench completion refused: ${parsed.problem}`);
    await handleProviderSignal(parsed.signal, signals);
  }
  // Every window is due a little after the last completion: what-if's view of the recorded windows.
  const end = (completions.at(-1)?.atMs ?? T0) + 60_000;
  const view = await new CachedEtaReader({ windows }, { ttlMs: 0 }).context(table.providers, new Date(end));
  const fromWindows = costErrors(table, view);
  const models: ModelCostError[] = [];
  for (const [provider, { models: catalogue }] of Object.entries(table.providers)) {
    for (const [model, { pricePerSecond }] of Object.entries(catalogue)) {
      const mine = completions.filter((c) => c.decision.provider === provider && c.decision.model === model);
      if (mine.length === 0) continue;
      const errors: number[] = [];
      const errorsUsd: number[] = [];
      let estimatedUsd = 0;
      for (const { decision, costUsd } of mine) {
        const selected = decision.explanation.candidates.find(
          (c) => c.verdict === 'selected' && c.provider === provider && c.model === model,
        );
        const estimate = selected?.quote?.costEstimateUsd;
        if (typeof estimate !== 'number' || !(estimate > 0)) continue;
        estimatedUsd += estimate;
        errors.push((costUsd - estimate) / estimate);
        errorsUsd.push(Math.abs(costUsd - estimate));
      }
      const chargedMicro = mine.reduce((sum, c) => sum + Math.round(c.costUsd * 1_000_000), 0);
      const outputMs = mine.reduce(
        (sum, c) => sum + Math.round((JSON.parse(c.decision.job) as { lengthSec: number }).lengthSec * 1000),
        0,
      );
      const estimatedPerSec = pricePerSecond * USD_PER_CREDIT;
      const expected = (chargedMicro / 1e6 / (outputMs / 1000) - estimatedPerSec) / estimatedPerSec;
      models.push({
        provider,
        model,
        completions: mine.length,
        quoted: errors.length,
        chargedUsd: round(chargedMicro / 1e6, 4),
        estimatedUsd: round(estimatedUsd, 4),
        meanAbsError: round(stats(errors.map(Math.abs)), 4),
        bias: round(stats(errors), 4),
        meanAbsErrorUsd: round(stats(errorsUsd), 4),
        windowsError: fromWindows.find((c) => c.provider === provider && c.model === model)?.error ?? null,
        expectedError: Math.round(expected * 10_000) / 10_000,
      });
    }
  }
  return { jobs, routed: completions.length, seed: SEED, billing: BILLING, models };
}

if (import.meta.main) {
  writeResult(await runCostError());
  process.exit(0);
}
