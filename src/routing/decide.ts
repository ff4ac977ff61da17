/**
 * The rule engine: a pure function from a validated submission (plus the user's credit balance)
 * to a routing decision that explains itself. No I/O, no clock, no randomness — the same inputs
 * and table always give the same decision, which is what makes `what-if` and audits trustworthy.
 */
import type { RejectionReason } from '../intake/reason-codes.ts';
import type { JobSubmission } from '../intake/submission.ts';
import {
  type ModelCapabilities,
  type RoutingTable,
  type RuleConditions,
  rulesVersionOf,
} from './routing-table.ts';

/** Why a rule's candidate was not taken. */
export type ExclusionReason =
  | 'requested_provider_mismatch'
  | 'tier_mismatch'
  | 'length_out_of_range'
  | 'resolution_mismatch'
  | 'audio_mismatch'
  | 'capability_mismatch'
  | 'insufficient_credits';

export interface CandidateVerdict {
  readonly rule: string;
  readonly provider: string | null;
  readonly model: string | null;
  readonly verdict: 'selected' | 'excluded' | 'rejects';
  readonly reason?: ExclusionReason;
  /** Short human detail, e.g. "lengthSec 12 > 10". */
  readonly detail?: string;
}

export interface Explanation {
  /** Content id of the table that decided (label@hash, see rulesVersionOf). */
  readonly rulesVersion: string;
  readonly matchedRule: string | null;
  readonly requestedProvider: string;
  /** The balance the decision saw: a number, null for "no credit record", absent if not needed. */
  readonly creditBalance?: number | null;
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
      readonly estimatedCost: number;
      readonly explanation: Explanation;
    }
  | {
      readonly outcome: 'rejected';
      readonly reason: RejectionReason;
      readonly explanation: Explanation;
    };

export interface DecisionContext {
  readonly table: RoutingTable;
  /** undefined: not loaded (no rule needs it); null: the user has no credit record. */
  readonly creditBalance?: number | null;
}

type Exclusion = { reason: ExclusionReason; detail: string };

function conditionsExclusion(when: RuleConditions, job: JobSubmission): Exclusion | undefined {
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

function capabilityExclusion(model: ModelCapabilities, job: JobSubmission): Exclusion | undefined {
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

const wantsAudio = (job: JobSubmission): boolean => job.feature?.audio === true;

/** Estimated cost in credit units, rounded to 1/10,000 to keep records free of float noise. */
export const estimateCost = (lengthSec: number, pricePerSecond: number): number =>
  Math.round(lengthSec * pricePerSecond * 10_000) / 10_000;

/** Whether any rule of the table needs the user's credit balance (the only I/O a decision may need). */
export const tableNeedsCreditBalance = (table: RoutingTable): boolean =>
  table.rules.some((rule) => 'route' in rule && rule.requireCredits);

// Precedence of the reason reported when nothing was selected: the most specific exclusion wins.
const specificReasons: ReadonlyArray<[ExclusionReason, RejectionReason]> = [
  ['insufficient_credits', 'insufficient_credits'],
  ['capability_mismatch', 'capability_mismatch'],
];

export function decide(job: JobSubmission, context: DecisionContext): RoutingDecision {
  const { table, creditBalance } = context;
  const candidates: CandidateVerdict[] = [];
  const explain = (matchedRule: string | null): Explanation => ({
    rulesVersion: rulesVersionOf(table),
    matchedRule,
    requestedProvider: job.provider,
    ...(creditBalance !== undefined ? { creditBalance } : {}),
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
    // The table schema guarantees every routed provider/model exists in the catalogue.
    const catalogue = table.providers[rule.route.provider] as RoutingTable['providers'][string];
    const capabilities = catalogue.models[rule.route.model] as ModelCapabilities;
    const estimatedCost = estimateCost(job.lengthSec, capabilities.pricePerSecond);
    const unable =
      capabilityExclusion(capabilities, job) ??
      (rule.requireCredits ? creditExclusion(estimatedCost, creditBalance) : undefined);
    if (unable) {
      candidates.push({ rule: rule.id, provider, model, verdict: 'excluded', ...unable });
      continue;
    }
    candidates.push({ rule: rule.id, provider, model, verdict: 'selected' });
    return {
      outcome: 'routed',
      provider: rule.route.provider,
      model: rule.route.model,
      queue: catalogue.queue,
      estimatedCost,
      explanation: explain(rule.id),
    };
  }
  return {
    outcome: 'rejected',
    reason: mostSpecificReason(candidates, 'no_route'),
    explanation: explain(null),
  };
}

function creditExclusion(cost: number, balance: number | null | undefined): Exclusion | undefined {
  // A missing credit record (or a balance that was not loaded) never covers a cost: fail closed.
  if (balance === null || balance === undefined)
    return { reason: 'insufficient_credits', detail: 'no credit record' };
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
