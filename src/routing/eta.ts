/**
 * Predicted completion time and cost per candidate (issue 21): each candidate of a decision gets a
 * **quote** `{ etaP50Sec, etaP95Sec, costEstimateUsd, slotsFree }`, from the statistics of the
 * provider signals' closed windows (src/provider-health/signal-windows.ts, read through
 * src/provider-health/eta-cache.ts) — an input of the decision like health, never read here. Pure.
 *
 * Where a quote's run time comes from (`basis`), first with at least `minSamples` samples:
 *   `segment`  the pair's succeeded attempts of the job's resolution and length bucket;
 *   `model`    the pair's succeeded attempts of any segment;
 *   `provider` the provider's reports that named no model (its segment, then any);
 *   `default`  cold start: the model's `defaultEtaSec`, else its provider's, else DEFAULT_ETA_SEC.
 * A measured run time adds the measured queue wait (the pair's, else the provider-wide one; none
 * reported: 0); a default is the whole time. Seconds are whole (rounded up): compact and finite.
 */
import type { JobSubmission } from '../intake/submission.ts';
import type { EstimatedCost } from './cost.ts';
import type { RoutingTable } from './routing-table.ts';

/** Cold start without a table default: ten minutes, the order of a video job at a busy provider. */
export const DEFAULT_ETA_SEC = 600;
/**
 * Samples a statistic needs before it replaces the default. One: a measured run is better evidence
 * than a configured guess, and each quote records how many samples it rests on; a table raises it
 * with `etaMinSamples`.
 */
export const DEFAULT_MIN_ETA_SAMPLES = 1;

/** Clip lengths (seconds, inclusive upper bounds) that share run-time statistics. */
export const LENGTH_BUCKETS_SEC: readonly number[] = [5, 10, 30, 60, 120];

export function lengthBucketOf(lengthSec: number): string {
  const bound = LENGTH_BUCKETS_SEC.find((limit) => lengthSec <= limit);
  return bound === undefined ? 'l+' : `l${bound}`;
}

/** The statistics segment of a job: `<resolution>|<length bucket>`. */
export const segmentOf = (job: { readonly resolution: string; readonly lengthSec: number }): string =>
  `${job.resolution}|${lengthBucketOf(job.lengthSec)}`;

export interface MeasuredTimes {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly samples: number;
}

/**
 * What a pair's closed windows total, whatever else is read from them: the outcomes of attempts,
 * the reported charges, and the span they cover. The windows' statistics (SegmentStats,
 * src/provider-health/signal-windows.ts) and a quote's inputs (PairEta) carry the same totals.
 */
export interface WindowTotals {
  /** Terminal attempts (succeeded or failed_terminal) and how many succeeded. */
  readonly attempts: number;
  readonly succeeded: number;
  /** Charged micro-dollars and the output milliseconds they paid for (completions with `costUsd`). */
  readonly chargedMicroUsd: number;
  readonly chargedOutputMs: number;
  /** The windows the numbers come from: first start and last end (epoch ms); null: none. */
  readonly fromMs: number | null;
  readonly toMs: number | null;
}

/** What the windows say about one provider/model pair (or a provider's model-less reports). */
export interface PairEta extends WindowTotals {
  /** Run time of succeeded attempts, by segment. */
  readonly run: Readonly<Record<string, MeasuredTimes>>;
  /** Run time of succeeded attempts of every segment. */
  readonly runAll: MeasuredTimes | null;
  readonly queue: MeasuredTimes | null;
}

export interface EtaContext {
  /** By `<provider>#<model>`, and `<provider>#-` for reports that named no model. */
  readonly pairs: Readonly<Record<string, PairEta>>;
  /** Free slots by provider, for providers with a `concurrency`; absent: unlimited. */
  readonly slotsFree: Readonly<Record<string, number>>;
}

export const EMPTY_ETA: EtaContext = { pairs: {}, slotsFree: {} };

export type EtaBasis = 'segment' | 'model' | 'provider' | 'default';

export interface CandidateQuote {
  readonly etaP50Sec: number;
  readonly etaP95Sec: number;
  /** The estimated cost in US dollars (credits × the table's `usdPerCredit`); null: no rate declared. */
  readonly costEstimateUsd: number | null;
  /** Free slots of the provider when decided; null: unlimited. */
  readonly slotsFree: number | null;
  readonly basis: EtaBasis;
  /** Run-time samples the quote rests on (0 for a default). */
  readonly samples: number;
}

/** Whether a table asks for quotes: a rule that prefers `eta` or `cost`, or a tier's `maxEtaSec`. */
export const tableUsesEta = (table: RoutingTable): boolean =>
  table.rules.some((rule) => 'route' in rule && rule.prefer !== undefined && rule.prefer !== 'order') ||
  Object.values(table.tiers ?? {}).some((tier) => tier.maxEtaSec !== undefined);

const enough = (times: MeasuredTimes | null | undefined, min: number): times is MeasuredTimes =>
  times !== null && times !== undefined && times.samples >= min;

/** A whole number of seconds, at least 0, finite whatever the inputs. */
const wholeSeconds = (ms: number): number => (Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : 0);

export function quoteOf(
  target: { readonly provider: string; readonly model: string },
  /** null: no particular job (the model as a whole: `capacity`), so no segment is looked at. */
  job: Pick<JobSubmission, 'resolution' | 'lengthSec'> | null,
  table: RoutingTable,
  context: EtaContext,
  estimatedCost: EstimatedCost,
): CandidateQuote {
  const min = table.etaMinSamples ?? DEFAULT_MIN_ETA_SAMPLES;
  const segment = job ? segmentOf(job) : null;
  const pair = context.pairs[`${target.provider}#${target.model}`];
  const wide = context.pairs[`${target.provider}#-`];
  const measured: [EtaBasis, MeasuredTimes | null | undefined][] = [
    ['segment', segment === null ? null : pair?.run[segment]],
    ['model', pair?.runAll],
    ['provider', segment === null ? null : wide?.run[segment]],
    ['provider', wide?.runAll],
  ];
  const found = measured.find(([, times]) => enough(times, min));
  const usdPerCredit = table.usdPerCredit;
  const costEstimateUsd =
    estimatedCost === null || usdPerCredit === undefined
      ? null
      : Math.round(estimatedCost * usdPerCredit * 1_000_000) / 1_000_000;
  const free = context.slotsFree[target.provider];
  const slotsFree = free === undefined ? null : free;
  if (!found) {
    const provider = table.providers[target.provider];
    const seconds =
      provider?.models[target.model]?.defaultEtaSec ?? provider?.defaultEtaSec ?? DEFAULT_ETA_SEC;
    return {
      etaP50Sec: seconds,
      etaP95Sec: seconds,
      costEstimateUsd,
      slotsFree,
      basis: 'default',
      samples: 0,
    };
  }
  const [basis, run] = found as [EtaBasis, MeasuredTimes];
  const queue = [pair?.queue, wide?.queue].find((times) => enough(times, min));
  const etaP50Sec = wholeSeconds(run.p50Ms + (queue?.p50Ms ?? 0));
  const etaP95Sec = Math.max(etaP50Sec, wholeSeconds(run.p95Ms + (queue?.p95Ms ?? 0)));
  return { etaP50Sec, etaP95Sec, costEstimateUsd, slotsFree, basis, samples: run.samples };
}

/**
 * The measured cost error of a pair: (charged per output second − estimated per output second) ÷
 * estimated, from the completions that reported `costUsd`. null: nothing charged was reported, or no
 * estimate in dollars (no `usdPerCredit`, or a free model).
 */
export function costErrorOf(
  pair: Pick<PairEta, 'chargedMicroUsd' | 'chargedOutputMs'> | undefined,
  pricePerSecond: number,
  usdPerCredit: number | undefined,
): number | null {
  if (!pair || pair.chargedOutputMs <= 0 || usdPerCredit === undefined) return null;
  const estimatedPerSec = pricePerSecond * usdPerCredit;
  if (!(estimatedPerSec > 0)) return null;
  const chargedPerSec = pair.chargedMicroUsd / 1_000_000 / (pair.chargedOutputMs / 1000);
  const error = (chargedPerSec - estimatedPerSec) / estimatedPerSec;
  return Number.isFinite(error) ? Math.round(error * 10_000) / 10_000 : null;
}
