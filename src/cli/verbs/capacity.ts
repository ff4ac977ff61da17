/**
 * `routing-manager capacity`: each provider's slot ledger — its limit (`concurrency` in the rules in
 * force), the jobs in flight, free slots, jobs held waiting for a slot, and slots expired but not
 * yet swept.
 * `routing-manager capacity set <provider> <n|unlimited> --why`: an operator changes a provider's
 * concurrency at run time. It is a rules publication like any other (the ChangeRules command): the
 * active table with that one number changed, recorded as `RulesPublished` by who and why, taken by
 * every router within its rules cache (10 s), and undone by `rules rollback`. The provider is
 * checked against the active table's own, so a typo is refused before anything is written.
 */
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { changeRules } from '../../commands/change-rules.ts';
import { EXIT_RUNTIME } from '../../exit-codes.ts';
import { CachedEtaReader } from '../../provider-health/eta-cache.ts';
import { readProviderSlots } from '../../provider-health/slot-claims.ts';
import { type EtaBasis, type EtaContext, quoteOf } from '../../routing/eta.ts';
import {
  DEFAULT_JOB_TIMEOUT_SEC,
  loadRoutingTable,
  MAX_CONCURRENCY,
  type RoutingTable,
} from '../../routing/routing-table.ts';
import type { ActiveRules } from '../../rules/active-rules.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { jsonLine, orDash, renderFacts, renderTable } from '../output.ts';
import { activeRulesIn, changeResultJson, readRulesState } from '../rules-state.ts';

export interface ProviderCapacityView {
  readonly provider: string;
  /** null: no concurrency declared (unlimited, no slot taken). */
  readonly limit: number | null;
  readonly inFlight: number | null;
  readonly expired: number | null;
  readonly free: number | null;
  /** Jobs held waiting for a slot (src/commands/hold-job.ts); null for an unlimited provider. */
  readonly held: number | null;
  readonly shards: number | null;
  readonly jobTimeoutSec: number;
  /** The rules version the limit comes from. */
  readonly rulesVersion: string;
  /** Each model's predicted completion time, from the signal windows (src/routing/eta.ts). */
  readonly models: readonly ModelEtaView[];
}

export interface ModelEtaView {
  readonly model: string;
  readonly etaP50Sec: number;
  readonly etaP95Sec: number;
  /** `model` (measured), `provider` (the provider's model-less reports) or `default` (cold start). */
  readonly basis: EtaBasis;
  readonly samples: number;
  /** Succeeded ÷ terminal attempts in the windows; null: none reported. */
  readonly successRate: number | null;
  /** The windows the numbers come from (ISO times); null: none. */
  readonly window: { readonly from: string; readonly to: string } | null;
}

async function activeRules(context: CliContext): Promise<ActiveRules> {
  return activeRulesIn(await readRulesState(context));
}

/** The capacity of every provider of the rules in force, as the routers see it now. */
export async function readCapacity(
  context: CliContext,
  healthTable: string,
  rules: ActiveRules,
): Promise<ProviderCapacityView[]> {
  const providers = { ...rules.canary?.table.providers, ...rules.table.providers };
  const limited = Object.entries(providers).flatMap(([provider, p]) =>
    p.concurrency === undefined ? [] : [{ provider, concurrency: p.concurrency }],
  );
  const slots = await context.onTable(healthTable, () =>
    readProviderSlots(context.ports().providerHealth(healthTable).slots, limited, context.now().getTime()),
  );
  const eta = await context.onTable(healthTable, () =>
    new CachedEtaReader(
      { windows: context.ports().providerHealth(healthTable).windows },
      { ttlMs: 0 },
    ).context(providers, context.now()),
  );
  const rulesVersion = rules.table.version;
  return Object.entries(providers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([provider, p]) => {
      const read = slots.find((s) => s.provider === provider);
      return {
        provider,
        limit: p.concurrency ?? null,
        inFlight: read?.inFlight ?? null,
        expired: read?.expired ?? null,
        free: read?.free ?? null,
        held: read?.held ?? null,
        shards: read?.shards ?? null,
        jobTimeoutSec: p.jobTimeoutSec ?? DEFAULT_JOB_TIMEOUT_SEC,
        rulesVersion,
        models: Object.keys(p.models)
          .sort()
          .map((model) => modelEtaOf(provider, model, rules.table, eta)),
      };
    });
}

/** A model's completion time as a whole (no particular job), its success rate and its windows. */
function modelEtaOf(provider: string, model: string, table: RoutingTable, eta: EtaContext): ModelEtaView {
  const quote = quoteOf({ provider, model }, null, table, eta, null);
  const measured = eta.pairs[`${provider}#${model}`];
  const from = measured?.fromMs ?? null;
  const to = measured?.toMs ?? null;
  return {
    model,
    etaP50Sec: quote.etaP50Sec,
    etaP95Sec: quote.etaP95Sec,
    basis: quote.basis,
    samples: quote.samples,
    successRate:
      measured && measured.attempts > 0
        ? Math.round((measured.succeeded / measured.attempts) * 1000) / 1000
        : null,
    window:
      from === null || to === null
        ? null
        : { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
  };
}

export function renderModelEtas(views: readonly ProviderCapacityView[]): string {
  return renderTable(
    ['provider', 'model', 'eta p50', 'eta p95', 'from', 'success', 'window'],
    views.flatMap((v) =>
      v.models.map((m) => [
        v.provider,
        m.model,
        `${m.etaP50Sec}s`,
        `${m.etaP95Sec}s`,
        m.basis === 'default' ? 'default (no samples)' : `${m.basis}, ${m.samples} samples`,
        m.successRate === null ? '-' : `${(m.successRate * 100).toFixed(1)}%`,
        m.window ? `${m.window.from} – ${m.window.to}` : '-',
      ]),
    ),
  );
}

export function renderCapacity(views: readonly ProviderCapacityView[]): string {
  const count = (n: number | null) => (n === null ? '-' : String(n));
  return renderTable(
    ['provider', 'limit', 'in flight', 'free', 'held', 'expired (unswept)', 'shards', 'job timeout'],
    views.map((v) => [
      v.provider,
      v.limit === null ? 'unlimited' : String(v.limit),
      count(v.inFlight),
      count(v.free),
      count(v.held),
      count(v.expired),
      count(v.shards),
      `${v.jobTimeoutSec}s`,
    ]),
  );
}

function concurrencyArgument(value: string): number | null {
  if (value === 'unlimited') return null;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_CONCURRENCY)
    throw new InvalidArgumentError(`expected a whole number in [1, ${MAX_CONCURRENCY}] or "unlimited"`);
  return parsed;
}

/** The table with one provider's concurrency replaced (null: removed, unlimited); validated again. */
export function withConcurrency(
  table: RoutingTable,
  provider: string,
  concurrency: number | null,
): RoutingTable {
  const declared = table.providers[provider];
  if (!declared)
    throw new UsageError(
      `unknown provider "${provider}": the active rules declare ${Object.keys(table.providers).join(', ')}`,
    );
  const { concurrency: _previous, ...rest } = declared;
  return loadRoutingTable({
    ...table,
    providers: { ...table.providers, [provider]: concurrency === null ? rest : { ...rest, concurrency } },
  });
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function registerCapacity(program: Command, contextOf: (command: Command) => CliContext) {
  const healthTableOption = [
    '--health-table <name>',
    'provider health table, which holds the slot ledger (default: $PROVIDER_HEALTH_TABLE or ProviderHealth-<stage>)',
  ] as const;
  const capacity = program
    .command('capacity')
    .description("each provider's slot ledger: limit, jobs in flight, free slots (the rules in force)")
    .option(...healthTableOption)
    .option('--json', 'one JSON object per provider')
    .action(async (options: { healthTable?: string; json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const views = await readCapacity(
        context,
        context.healthTable(options.healthTable),
        await activeRules(context),
      );
      context.out(
        options.json
          ? views.map(jsonLine).join('\n')
          : `${renderCapacity(views)}\n\npredicted completion time:\n${renderModelEtas(views)}`,
      );
    });

  capacity
    .command('set')
    .description("change a provider's concurrency at run time (published as a rules version, recorded)")
    .argument('<provider>', 'a provider of the active rules, e.g. fal')
    .argument('<concurrency>', 'a whole number, or "unlimited"', concurrencyArgument)
    .option('--why <text>', 'why (recorded with the change; required)')
    .option('--by <who>', 'who asks (recorded; default: the OS user)')
    .option('--json', 'the result as one JSON object')
    .action(
      async (
        provider: string,
        concurrency: number | null,
        options: { why?: string; by?: string; json?: boolean },
        command: Command,
      ) => {
        const context = contextOf(command);
        const why = options.why?.trim();
        if (!why) throw new UsageError('--why is required (it is recorded with the change)');
        const by = options.by ?? context.io.env.USER ?? safeUserName();
        const rules = await activeRules(context);
        const table = withConcurrency(rules.table, provider, concurrency);
        const result = await context.onTable(context.tables.log, () =>
          changeRules(
            // No what-if gate: a concurrency changes no recorded decision (what-if decides without slots).
            { type: 'PublishRules', data: { by, why, table, gate: null, force: false } },
            { rules: context.ports().rules, now: () => context.now() },
          ),
        );
        if (result.outcome === 'contended' || result.outcome === 'refused') context.exitCode = EXIT_RUNTIME;
        const before = rules.table.providers[provider]?.concurrency ?? null;
        if (options.json) {
          context.out(jsonLine({ provider, before, after: concurrency, result: changeResultJson(result) }));
          return;
        }
        if (result.outcome !== 'appended') {
          context.out(`${result.outcome}: ${'message' in result ? result.message : ''}`);
          return;
        }
        context.out(
          renderFacts([
            ['provider', provider],
            [
              'concurrency',
              `${orDash(before === null ? 'unlimited' : String(before))} → ${concurrency ?? 'unlimited'}`,
            ],
            ['rules version', result.record.data.subject],
            ['record', `${result.record.metadata.stream} version ${result.record.metadata.version}`],
            ['recorded by', `${by}: ${why}`],
          ]),
        );
      },
    );
}
