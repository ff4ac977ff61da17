/**
 * The rule engine: a pure function from a validated submission (plus the user's credit balance)
 * to a routing decision that explains itself. No I/O, no clock, no randomness — the same inputs
 * and table always give the same decision, which is what makes `what-if` and audits trustworthy.
 */
import type { RejectionReason } from '../intake/reason-codes.ts';
import type { DefaultedField, JobSubmission } from '../intake/submission.ts';
import { type EstimatedCost, estimateCost, recordedBalance } from './cost.ts';
import { type CandidateQuote, EMPTY_ETA, type EtaContext, quoteOf, tableUsesEta } from './eta.ts';
import {
  type ModelCapabilities,
  type RouteRule,
  type RoutingTable,
  type RuleConditions,
  rulesVersionOf,
} from './routing-table.ts';

/**
 * What a decision reads of a job: its routing facts only (src/content/job-content.ts FACT_FIELDS),
 * never its user content — so a held job is decided again from the facts its deferral keeps.
 */
export type RoutingFacts = Pick<
  JobSubmission,
  'jobId' | 'lengthSec' | 'resolution' | 'tier' | 'provider' | 'feature'
>;

/** Why a rule's candidate was not taken. */
export type ExclusionReason =
  | 'requested_provider_mismatch'
  | 'tier_mismatch'
  | 'length_out_of_range'
  | 'resolution_mismatch'
  | 'audio_mismatch'
  | 'capability_mismatch'
  | 'insufficient_credits'
  | 'provider_unhealthy'
  | 'provider_full'
  | 'eta_over_limit'
  | 'not_preferred'
  | 'already_tried';

export interface CandidateVerdict {
  readonly rule: string;
  readonly provider: string | null;
  readonly model: string | null;
  readonly verdict: 'selected' | 'excluded' | 'rejects';
  readonly reason?: ExclusionReason;
  /** Short human detail, e.g. "lengthSec 12 > 10". */
  readonly detail?: string;
  /** The breaker read for this candidate and its transition version ("why not fal at 14:02?"). */
  readonly breaker?: string;
  readonly healthVersion?: number;
  /** An explicitly requested provider whose breaker is not closed: routed there anyway. */
  readonly healthIgnored?: true;
  /** Sent as the half-open breaker's one probe. */
  readonly probe?: true;
  /** Sent although its provider was full (the rule's `whenAllFull: route_anyway`): its slot still counts. */
  readonly overflow?: true;
  /**
   * Its predicted completion time and cost when decided (src/routing/eta.ts): on every candidate of
   * the matched rule when the table prefers by eta or cost or bounds a tier's ETA, or when measured.
   */
  readonly quote?: CandidateQuote;
}

/** What the router knew about provider health when it decided (absent: health not configured). */
export interface HealthRead {
  /** `unavailable`: health could not be read, so every candidate counted as healthy (fail open). */
  readonly read: 'ok' | 'unavailable';
  /** Every candidate of the matched rule was unhealthy and the primary was taken anyway. */
  readonly panic?: true;
  /** The request named its provider and that provider's breaker was not closed: not switched. */
  readonly healthIgnored?: true;
}

/** What the decision knew about provider slots (absent: no candidate's provider was full). */
export interface CapacityRead {
  /** Providers whose every slot was taken when this job was decided. */
  readonly full: readonly string[];
  /** Every candidate was full and the rule's `whenAllFull: route_anyway` sent it to the first. */
  readonly overflow?: true;
}

export interface Explanation {
  /** Content id of the table that decided (label@hash, see rulesVersionOf). */
  readonly rulesVersion: string;
  readonly matchedRule: string | null;
  readonly requestedProvider: string;
  /** Fields the submission did not carry, decided with their defaults (absent when none). */
  readonly defaulted?: readonly DefaultedField[];
  /** The balance the decision saw: a number, null for "no credit record", absent if not needed. */
  readonly creditBalance?: number | null;
  readonly health?: HealthRead;
  /** Set when a provider was full for this job: which ones, and whether it was sent anyway. */
  readonly capacity?: CapacityRead;
  readonly candidates: readonly CandidateVerdict[];
  /** Set only when the rules could not be read: the last known version, or the bundled default. */
  readonly rulesRead?: 'stale' | 'fallback';
  /** Set while a canary runs: the job's stable bucket and whether the candidate decided it. */
  readonly canary?: CanaryAssignment;
}

export interface CanaryAssignment {
  /** 0–9999, from a hash of the jobId: the same on every replay and audit. */
  readonly bucket: number;
  readonly percent: number;
  /** Content id of the canary candidate. */
  readonly rulesVersion: string;
  /** True when the candidate made this decision (bucket under percent). */
  readonly used: boolean;
}

export type RoutingDecision =
  | {
      readonly outcome: 'routed';
      readonly provider: string;
      readonly model: string;
      readonly queue: string;
      /** Credits; null when not computable (beyond MAX_ESTIMABLE_COST, src/routing/cost.ts). */
      readonly estimatedCost: EstimatedCost;
      readonly explanation: Explanation;
      /** Set when this job is the half-open probe of that breaker: the router must lease it first. */
      readonly probeOf?: string;
      /** Sent although the provider is full (`whenAllFull: route_anyway`): take the slot regardless. */
      readonly overflow?: true;
    }
  | {
      readonly outcome: 'rejected';
      readonly reason: RejectionReason;
      readonly explanation: Explanation;
    };

/** One candidate's health as the router read it (src/provider-health/health-view.ts). */
export interface CandidateHealth {
  readonly health: 'healthy' | 'unhealthy' | 'probe';
  /** The breaker that decided it (`fal`, `fal#wan-i2v`) and its transition version (0: never changed). */
  readonly breaker: string;
  readonly version: number;
}

export interface HealthContext {
  readonly read: 'ok' | 'unavailable';
  /** By `<provider>#<model>`; a candidate not listed is healthy. */
  readonly candidates: Readonly<Record<string, CandidateHealth>>;
}

export interface DecisionContext {
  readonly table: RoutingTable;
  /** undefined: not loaded (no rule needs it); null: the user has no credit record. */
  readonly creditBalance?: number | null;
  /** Fields intake filled with defaults, recorded in the explanation. */
  readonly defaulted?: readonly DefaultedField[];
  /** Provider health as read; absent: health is not consulted (every candidate healthy). */
  readonly health?: HealthContext;
  /** `<provider>#<model>` pairs this job already tried (a revision never sends it back there). */
  readonly alreadyTried?: readonly string[];
  /** Providers known to be full (their slot ledger refused this job); absent: none is. */
  readonly capacity?: CapacityContext;
  /** Measured completion times and free slots (src/provider-health/eta-cache.ts); absent: defaults only. */
  readonly eta?: EtaContext;
}

/** The providers whose slots were all taken when this job tried one (src/commands/decide-with-capacity.ts). */
export interface CapacityContext {
  readonly full: readonly string[];
}

type Exclusion = { reason: ExclusionReason; detail: string };

function conditionsExclusion(when: RuleConditions, job: RoutingFacts): Exclusion | undefined {
  if (when.requestedProvider && !when.requestedProvider.includes(job.provider)) {
    return { reason: 'requested_provider_mismatch', detail: `provider ${job.provider}` };
  }
  if (when.tiers && !when.tiers.includes(job.tier)) {
    return { reason: 'tier_mismatch', detail: `tier ${job.tier}` };
  }
  if (when.maxLengthSec !== undefined && job.lengthSec > when.maxLengthSec) {
    return { reason: 'length_out_of_range', detail: `lengthSec ${job.lengthSec} > ${when.maxLengthSec}` };
  }
  if (when.minLengthSec !== undefined && job.lengthSec < when.minLengthSec) {
    return { reason: 'length_out_of_range', detail: `lengthSec ${job.lengthSec} < ${when.minLengthSec}` };
  }
  if (when.resolutions && !when.resolutions.includes(job.resolution)) {
    return { reason: 'resolution_mismatch', detail: `resolution ${job.resolution}` };
  }
  if (when.audio !== undefined && when.audio !== wantsAudio(job)) {
    return { reason: 'audio_mismatch', detail: `audio ${wantsAudio(job)}` };
  }
  return undefined;
}

function capabilityExclusion(model: ModelCapabilities, job: RoutingFacts): Exclusion | undefined {
  const limit = (detail: string): Exclusion => ({ reason: 'capability_mismatch', detail });
  if (model.maxLengthSec !== undefined && job.lengthSec > model.maxLengthSec) {
    return limit(`model max ${model.maxLengthSec}s < ${job.lengthSec}s`);
  }
  if (model.minLengthSec !== undefined && job.lengthSec < model.minLengthSec) {
    return limit(`model min ${model.minLengthSec}s > ${job.lengthSec}s`);
  }
  if (model.resolutions && !model.resolutions.includes(job.resolution)) {
    return limit(`model does not render ${job.resolution}`);
  }
  if (model.audio === false && wantsAudio(job)) return limit('model has no audio');
  return undefined;
}

const wantsAudio = (job: RoutingFacts): boolean => job.feature?.audio === true;

/** Whether any rule of the table needs the user's credit balance (the only I/O a decision may need). */
export const tableNeedsCreditBalance = (table: RoutingTable): boolean =>
  table.rules.some((rule) => 'route' in rule && rule.requireCredits);

// Precedence of the reason reported when nothing was selected: the most specific exclusion wins.
const specificReasons: ReadonlyArray<[ExclusionReason, RejectionReason]> = [
  ['insufficient_credits', 'insufficient_credits'],
  ['capability_mismatch', 'capability_mismatch'],
];

export function decide(job: RoutingFacts, context: DecisionContext): RoutingDecision {
  const { table, defaulted } = context;
  const creditBalance = recordedBalance(context.creditBalance);
  const candidates: CandidateVerdict[] = [];
  const healthFlags: { panic?: true; healthIgnored?: true } = {};
  const capacityFlags: { overflow?: true } = {};
  const explain = (matchedRule: string | null): Explanation => ({
    rulesVersion: rulesVersionOf(table),
    matchedRule,
    requestedProvider: job.provider,
    ...(defaulted && defaulted.length > 0 ? { defaulted } : {}),
    ...(creditBalance !== undefined ? { creditBalance } : {}),
    ...(context.health ? { health: { read: context.health.read, ...healthFlags } } : {}),
    ...(context.capacity && context.capacity.full.length > 0
      ? { capacity: { full: context.capacity.full, ...capacityFlags } }
      : {}),
    candidates,
  });

  for (const rule of table.rules) {
    const provider = 'route' in rule ? rule.route.provider : null;
    const model = 'route' in rule ? rule.route.model : null;
    const excluded = conditionsExclusion(rule.when, job);
    if (excluded) {
      candidates.push({ rule: rule.id, provider, model, verdict: 'excluded', ...excluded });
      continue;
    }
    if (!('route' in rule)) {
      candidates.push({ rule: rule.id, provider, model, verdict: 'rejects' });
      return {
        outcome: 'rejected',
        reason: mostSpecificReason(candidates, rule.reject),
        explanation: explain(rule.id),
      };
    }
    // An explicitly requested provider is never switched, whatever a table's rules say.
    if (job.provider !== 'auto' && rule.route.provider !== job.provider) {
      candidates.push({
        rule: rule.id,
        provider,
        model,
        verdict: 'excluded',
        reason: 'requested_provider_mismatch',
        detail: `explicitly requested ${job.provider}`,
      });
      continue;
    }
    const chosen = chooseTarget(rule, job, context, candidates, healthFlags, capacityFlags);
    if (chosen === 'none') continue;
    if (chosen === 'reject') {
      return { outcome: 'rejected', reason: 'no_healthy_provider', explanation: explain(rule.id) };
    }
    if (chosen === 'full') {
      return { outcome: 'rejected', reason: 'capacity_exhausted', explanation: explain(rule.id) };
    }
    return { outcome: 'routed', ...chosen, explanation: explain(rule.id) };
  }
  return {
    outcome: 'rejected',
    reason: mostSpecificReason(candidates, 'no_route'),
    explanation: explain(null),
  };
}

type Target = { provider: string; model: string };
type Chosen = {
  provider: string;
  model: string;
  queue: string;
  estimatedCost: EstimatedCost;
  probeOf?: string;
  overflow?: true;
};

/**
 * The target of a matched route rule: its route, then (auto jobs only) its fallbacks, skipping
 * targets that cannot serve the job, that the job already tried, or whose breaker is open. If
 * every servable target is unhealthy, the rule's `whenAllUnhealthy` says: route to the first one
 * anyway (panic mode, recorded) or reject. An explicit request is never moved: its one target is
 * taken whatever its health, and the explanation records that health was ignored.
 */
function chooseTarget(
  rule: RouteRule,
  job: RoutingFacts,
  context: DecisionContext,
  candidates: CandidateVerdict[],
  flags: { panic?: true; healthIgnored?: true },
  capacityFlags: { overflow?: true },
): Chosen | 'none' | 'reject' | 'full' {
  const explicit = job.provider !== 'auto';
  const written: Target[] = explicit ? [rule.route] : [rule.route, ...(rule.fallbacks ?? [])];
  const { table } = context;
  const quoted = written.map((target) => {
    // The table schema guarantees every routed provider/model exists in the catalogue.
    const catalogue = table.providers[target.provider] as RoutingTable['providers'][string];
    const capabilities = catalogue.models[target.model] as ModelCapabilities;
    const estimatedCost = estimateCost(job.lengthSec, capabilities.pricePerSecond);
    const quote = quoteOf(target, job, table, context.eta ?? EMPTY_ETA, estimatedCost);
    return { target, catalogue, capabilities, estimatedCost, quote };
  });
  const targets = preferred(quoted, rule.prefer);
  const recordQuotes = tableUsesEta(table) || quoted.some(({ quote }) => quote.basis !== 'default');
  const maxEtaSec = table.tiers?.[job.tier]?.maxEtaSec;
  let firstServable: { chosen: Chosen; verdict: CandidateVerdict } | undefined;
  let firstFull: { chosen: Chosen; verdict: CandidateVerdict } | undefined;
  let firstOverEta: { chosen: Chosen; verdict: CandidateVerdict } | undefined;
  // Under a preference, the candidates after the one taken are recorded too, with their quotes:
  // the explanation then answers "why not fal" (p95 840 s against 180 s).
  const passOver = (index: number, taken: QuotedTarget) => {
    if (rule.prefer !== 'eta' && rule.prefer !== 'cost') return;
    for (const rest of targets.slice(index + 1)) {
      const detail =
        rule.prefer === 'eta'
          ? `p95 ${rest.quote.etaP95Sec}s vs ${taken.quote.etaP95Sec}s`
          : `cost ${rest.estimatedCost ?? 'not computable'} vs ${taken.estimatedCost ?? 'not computable'}`;
      candidates.push({
        rule: rule.id,
        provider: rest.target.provider,
        model: rest.target.model,
        ...(recordQuotes ? { quote: rest.quote } : {}),
        verdict: 'excluded',
        reason: 'not_preferred',
        detail,
      });
    }
  };
  for (const [index, entry] of targets.entries()) {
    const { target, catalogue, capabilities, estimatedCost, quote } = entry;
    const verdict = {
      rule: rule.id,
      provider: target.provider,
      model: target.model,
      ...(recordQuotes ? { quote } : {}),
    };
    const unable =
      capabilityExclusion(capabilities, job) ??
      (rule.requireCredits ? creditExclusion(estimatedCost, context.creditBalance) : undefined);
    if (unable) {
      candidates.push({ ...verdict, verdict: 'excluded', ...unable });
      continue;
    }
    const pair = `${target.provider}#${target.model}`;
    if (!explicit && context.alreadyTried?.includes(pair)) {
      candidates.push({
        ...verdict,
        verdict: 'excluded',
        reason: 'already_tried',
        detail: 'failed earlier for this job',
      });
      continue;
    }
    const chosen: Chosen = { ...target, queue: catalogue.queue, estimatedCost };
    // A full provider is skipped by auto and explicit jobs alike (an explicit one has no other
    // target, so it meets the rule's whenAllFull): never more than `concurrency` in flight.
    if (context.capacity?.full.includes(target.provider)) {
      const detail = `concurrency ${catalogue.concurrency ?? 0} in flight`;
      candidates.push({ ...verdict, verdict: 'excluded', reason: 'provider_full', detail });
      firstFull ??= {
        chosen: { ...chosen, overflow: true },
        verdict: { ...verdict, verdict: 'selected', overflow: true, detail: 'every candidate full' },
      };
      continue;
    }
    const health = context.health?.read === 'ok' ? context.health.candidates[pair] : undefined;
    const read = health ? { breaker: health.breaker, healthVersion: health.version } : {};
    // Too slow for the tier: excluded, unless every other candidate is excluded too (then the
    // first of them by preference is taken: a slow answer rather than none).
    if (
      maxEtaSec !== undefined &&
      quote.etaP95Sec > maxEtaSec &&
      !explicit &&
      health?.health !== 'unhealthy'
    ) {
      const detail = `p95 ${quote.etaP95Sec}s > ${maxEtaSec}s`;
      candidates.push({ ...verdict, verdict: 'excluded', reason: 'eta_over_limit', ...read, detail });
      firstOverEta ??= {
        chosen,
        verdict: { ...verdict, verdict: 'selected', ...read, detail: 'every candidate over maxEtaSec' },
      };
      continue;
    }
    if (health?.health === 'unhealthy' && !explicit) {
      candidates.push({
        ...verdict,
        verdict: 'excluded',
        reason: 'provider_unhealthy',
        ...read,
        detail: `breaker ${health.breaker} v${health.version} open`,
      });
      firstServable ??= {
        chosen,
        verdict: { ...verdict, verdict: 'selected', ...read, detail: 'panic: every candidate unhealthy' },
      };
      continue;
    }
    if (health && health.health !== 'healthy' && explicit) {
      flags.healthIgnored = true;
      candidates.push({
        ...verdict,
        verdict: 'selected',
        ...read,
        healthIgnored: true,
        detail: 'explicitly requested',
      });
      return chosen;
    }
    if (health?.health === 'probe') {
      candidates.push({ ...verdict, verdict: 'selected', ...read, probe: true, detail: 'half-open probe' });
      passOver(index, entry);
      return { ...chosen, probeOf: health.breaker };
    }
    candidates.push({ ...verdict, verdict: 'selected', ...read });
    passOver(index, entry);
    return chosen;
  }
  if (firstOverEta) {
    candidates.push(firstOverEta.verdict);
    return firstOverEta.chosen;
  }
  if (!firstServable && firstFull) {
    if (rule.whenAllFull !== 'route_anyway') return 'full';
    capacityFlags.overflow = true;
    candidates.push(firstFull.verdict);
    return firstFull.chosen;
  }
  if (!firstServable) return 'none';
  if (rule.whenAllUnhealthy === 'reject') return 'reject';
  flags.panic = true;
  candidates.push(firstServable.verdict);
  return firstServable.chosen;
}

type QuotedTarget = {
  readonly target: Target;
  readonly catalogue: RoutingTable['providers'][string];
  readonly capabilities: ModelCapabilities;
  readonly estimatedCost: EstimatedCost;
  readonly quote: CandidateQuote;
};

/**
 * The rule's targets in the order its `prefer` asks: `order` (the default) as written; `eta` by the
 * quote's p95, then p50; `cost` by the estimated cost (one not computable last). Ties keep the
 * written order (a stable sort), so the same inputs always give the same order.
 */
function preferred(targets: readonly QuotedTarget[], prefer: RouteRule['prefer']): readonly QuotedTarget[] {
  if (prefer === undefined || prefer === 'order') return targets;
  const key =
    prefer === 'eta'
      ? (t: QuotedTarget) => [t.quote.etaP95Sec, t.quote.etaP50Sec]
      : (t: QuotedTarget) => [t.estimatedCost ?? Number.MAX_VALUE];
  return [...targets].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) {
      const difference = (ka[i] as number) - (kb[i] as number);
      if (difference !== 0) return difference;
    }
    return 0;
  });
}

function creditExclusion(cost: EstimatedCost, balance: number | null | undefined): Exclusion | undefined {
  // A missing credit record (or a balance that was not loaded) never covers a cost: fail closed.
  if (balance === null || balance === undefined)
    return { reason: 'insufficient_credits', detail: 'no credit record' };
  // A cost too large to compute is larger than any balance: fail closed too.
  if (cost === null) return { reason: 'insufficient_credits', detail: 'cost not computable' };
  if (cost > balance) return { reason: 'insufficient_credits', detail: `cost ${cost} > balance ${balance}` };
  return undefined;
}

function mostSpecificReason(
  candidates: readonly CandidateVerdict[],
  fallback: RejectionReason,
): RejectionReason {
  for (const [exclusion, reason] of specificReasons) {
    if (candidates.some((candidate) => candidate.reason === exclusion)) return reason;
  }
  return fallback;
}
