/**
 * One decision of a job under the rules in force, as every command that decides makes it: a first
 * decision (RouteJob), a re-routing after a provider failure (ReviseRouting) and the decision that
 * ends a hold (hold-job.ts). The same order for all three, so a re-routing or a held job is decided
 * under exactly the rules a first decision is:
 *
 *   1. quotes (ETA, cost, free slots) read once — only when a table in force asks for them (a rule's
 *      `prefer: eta|cost`, a tier's `maxEtaSec`), through the per-instance cache;
 *   2. the pure decision (decideUnderRules) under provider health, whose half-open probe is leased
 *      before anything is recorded (decideWithHealth);
 *   3. a slot taken for a routed job whose provider declares a `concurrency`; a full provider is
 *      listed full and the job decided again (decideWithCapacity) — an `auto` job goes to a candidate
 *      with a free slot, and when every candidate is full the rule's `whenAllFull` decides.
 */
import type { DefaultedField } from '../intake/submission.ts';
import type { EtaReader } from '../provider-health/eta-cache.ts';
import type { RoutingFacts } from '../routing/decide.ts';
import { tableUsesEta } from '../routing/eta.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { ActiveRules } from '../rules/active-rules.ts';
import { decideUnderRules, type RulesDecision } from '../rules/rules-decision.ts';
import { type CapacityDecision, decideWithCapacity, type RouterCapacity } from './decide-with-capacity.ts';
import { decideWithHealth, type RouterHealth } from './decide-with-health.ts';

/** What a decision reads besides the job: each absent means "not consulted" (see each field). */
export interface JobDecisionPorts {
  /** Provider health (breakers, probe leases); absent: every provider counts as healthy. */
  readonly health?: RouterHealth | undefined;
  /** The providers' slot ledger; absent: no provider is ever full (no slot is taken). */
  readonly capacity?: RouterCapacity | undefined;
  /** Measured completion times (cached); absent: every quote is the table's default. */
  readonly eta?: { readonly reader: EtaReader } | undefined;
}

export interface JobDecisionInputs {
  readonly job: RoutingFacts;
  readonly rules: ActiveRules;
  /** undefined: not read (no rule needs it, or a re-routing, which fails such a rule closed). */
  readonly creditBalance?: number | null | undefined;
  readonly defaulted?: readonly DefaultedField[];
  /** `<provider>#<model>` pairs the job already tried (a re-routing never sends it back there). */
  readonly alreadyTried?: readonly string[];
  readonly now: Date;
  /** The dispatch this decision would be sent under: the slot's and the probe lease's holder. */
  readonly dispatchId: string;
  /** Set when a held job is decided again: its slot take may pass the jobs waiting behind it. */
  readonly waitingJobId?: string;
}

/** Every provider the rules in force may pick from (the canary's too). */
export const providersOf = (rules: ActiveRules): RoutingTable['providers'] => ({
  ...rules.canary?.table.providers,
  ...rules.table.providers,
});

/** Whether a table that decides jobs (the active one, or the canary) asks for quotes. */
export const rulesUseEta = (rules: ActiveRules): boolean =>
  tableUsesEta(rules.table) ||
  (rules.canary !== null && rules.canary !== undefined && tableUsesEta(rules.canary.table));

export async function decideJob(
  inputs: JobDecisionInputs,
  ports: JobDecisionPorts,
): Promise<CapacityDecision<RulesDecision>> {
  const { job, rules, now, dispatchId } = inputs;
  const providers = providersOf(rules);
  const eta = ports.eta && rulesUseEta(rules) ? await ports.eta.reader.context(providers, now) : undefined;
  return decideWithCapacity(
    providers,
    (capacity) =>
      decideWithHealth(
        providers,
        (health) =>
          decideUnderRules(job, rules, inputs.creditBalance, inputs.defaulted ?? [], {
            ...(inputs.alreadyTried ? { alreadyTried: inputs.alreadyTried } : {}),
            ...(health ? { health } : {}),
            ...(capacity ? { capacity } : {}),
            ...(eta ? { eta } : {}),
          }),
        ports.health,
        now,
        dispatchId,
      ),
    ports.capacity,
    now,
    dispatchId,
    inputs.waitingJobId,
  );
}
