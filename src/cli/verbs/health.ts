/**
 * `routing-manager health`: each provider breaker's state, why and since when.
 * `routing-manager provider open|close|auto <provider>`: an operator forces a breaker (or gives it
 * back to the breaker). The command appends directly, through the same RecordHealthSignal use case
 * the HealthSignals function runs for a `provider.status.changed` event — so it works without the
 * event bus (and against `npm run local -- --keep`), and the transition is recorded and announced
 * exactly as for the event. Its signal id is derived from the command and the breaker's current
 * version: re-running the same command changes nothing, a later one is a new signal.
 */
import type { Command } from 'commander';
import { DynamoDbProviderHealthStore } from '../../aws/dynamodb-provider-health-store.ts';
import { changeProviderMode } from '../../commands/record-health-signal.ts';
import type { BreakerMode, BreakerState } from '../../log/health-records.ts';
import type { BreakerRef } from '../../ports/provider-health-store.ts';
import {
  breakerKey,
  DEFAULT_BREAKER_CONFIG,
  effectiveStatus,
  initialBreakerState,
  windowBucketStarts,
  windowTotals,
  withSuccessTally,
} from '../../provider-health/breaker.ts';
import { breakerRefsOf } from '../../provider-health/health-view.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { jsonLine, orDash, renderTable } from '../output.ts';
import { checkBreakerName, publishedTables } from '../vocabulary.ts';

export interface BreakerView {
  readonly breaker: string;
  /** What a router acts on now (an elapsed open period reads half_open). */
  readonly status: string;
  readonly recordedStatus: BreakerState['status'];
  readonly mode: BreakerMode;
  readonly since: string | null;
  readonly reason: string;
  readonly detail: string;
  readonly openUntil: string | null;
  readonly version: number;
  readonly probe: string | null;
  /** Attempts counted in the breaker's sliding window (5 min) and the share that succeeded (null: none). */
  readonly window: {
    readonly attempts: number;
    readonly failures: number;
    readonly successRate: number | null;
  };
}

const healthTableOf = (context: CliContext, option: string | undefined): string =>
  option ?? context.io.env.PROVIDER_HEALTH_TABLE ?? `ProviderHealth-${context.tables.stage}`;

const storeOf = (context: CliContext, healthTable: string) =>
  new DynamoDbProviderHealthStore(context.documents, { health: healthTable, log: context.tables.log });

export function breakerView(state: BreakerState, now: string): BreakerView {
  return {
    breaker: state.key,
    status: effectiveStatus(state, now),
    recordedStatus: state.status,
    mode: state.mode,
    since: state.since,
    reason: state.reason,
    detail: state.detail,
    openUntil: state.openUntil,
    version: state.version,
    probe: state.probe && now < state.probe.expiresAt ? state.probe.dispatchId : null,
    window: windowView(state, now),
  };
}

/** The window's totals as of `now`; the rate is a percentage with one decimal, null without attempts. */
function windowView(state: BreakerState, now: string): BreakerView['window'] {
  const { attempts, failures } = windowTotals(state.window, now, DEFAULT_BREAKER_CONFIG);
  const successRate = attempts === 0 ? null : Math.round(((attempts - failures) / attempts) * 1000) / 10;
  return { attempts, failures, successRate };
}

export async function readHealth(
  context: CliContext,
  healthTable: string,
  refs: readonly BreakerRef[],
): Promise<BreakerView[]> {
  const store = storeOf(context, healthTable);
  const stored = await context.onTable(healthTable, () => store.readMany(refs));
  const now = context.now().toISOString();
  // Successes live in the success tally until a failure folds them in: the view reads them too.
  return Promise.all(
    refs.map(async (ref) => {
      const key = breakerKey(ref.provider, ref.model);
      const state = stored.get(key)?.state ?? initialBreakerState(ref.provider, ref.model);
      const tally = await context.onTable(healthTable, () => store.readTally(key, windowBucketStarts(now)));
      return breakerView(withSuccessTally(state, now, tally), now);
    }),
  );
}

export function renderHealth(views: readonly BreakerView[]): string {
  return renderTable(
    ['breaker', 'status', 'mode', 'since', 'why', 'open until', 'v', 'probe', 'success (5 min)'],
    views.map((v) => [
      v.breaker,
      v.status,
      v.mode,
      orDash(v.since),
      v.version === 0 ? 'no transition recorded' : `${v.reason}: ${v.detail}`,
      orDash(v.openUntil),
      String(v.version),
      orDash(v.probe),
      v.window.successRate === null ? '-' : `${v.window.successRate}% of ${v.window.attempts}`,
    ]),
  );
}

const MODES: Record<string, BreakerMode> = { open: 'forced_open', close: 'forced_closed', auto: 'auto' };

export function registerHealth(program: Command, contextOf: (command: Command) => CliContext) {
  program
    .command('health')
    .description("each provider breaker's state, why, and since when (the default table's providers)")
    .option('--provider <provider>', 'only this provider (its provider-level and model breakers; checked)')
    .option(
      '--health-table <name>',
      'provider health table (default: $PROVIDER_HEALTH_TABLE or ProviderHealth-<stage>)',
    )
    .option('--json', 'one JSON object per breaker')
    .action(
      async (options: { provider?: string; healthTable?: string; json?: boolean }, command: Command) => {
        const context = contextOf(command);
        if (options.provider !== undefined) await checkBreakerName(context, options.provider, null);
        const tables =
          options.provider === undefined || options.provider in defaultRoutingTable.providers
            ? [defaultRoutingTable]
            : [defaultRoutingTable, ...(await publishedTables(context))];
        const providers = Object.assign({}, ...tables.map((table) => table.providers).reverse());
        const refs = breakerRefsOf(providers).filter(
          (ref) => options.provider === undefined || ref.provider === options.provider,
        );
        const views = await readHealth(context, healthTableOf(context, options.healthTable), refs);
        context.out(options.json ? views.map(jsonLine).join('\n') : renderHealth(views));
      },
    );

  program
    .command('provider')
    .description('force a provider breaker open or closed, or give it back to the breaker (auto)')
    .argument('<action>', 'open | close | auto')
    .argument('<provider>', 'provider id, e.g. fal')
    .option('--model <model>', "only this model's breaker")
    .requiredOption('--why <text>', 'reason, recorded in the transition')
    .option('--by <who>', 'who asks (recorded; default: the OS user)')
    .option(
      '--health-table <name>',
      'provider health table (default: $PROVIDER_HEALTH_TABLE or ProviderHealth-<stage>)',
    )
    .action(
      async (
        action: string,
        provider: string,
        options: { model?: string; why: string; by?: string; healthTable?: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const mode = MODES[action];
        if (!mode)
          throw new UsageError(`unknown action ${JSON.stringify(action)}; allowed: open, close, auto`);
        if (!options.why.trim())
          throw new UsageError('--why is required (it is recorded with the transition)');
        const ref = { provider, model: options.model ?? null };
        // Before anything is written: a provider or model no table declares records nothing.
        await checkBreakerName(context, provider, ref.model);
        const actor = context.operator(options.by);
        const healthTable = healthTableOf(context, options.healthTable);
        const store = storeOf(context, healthTable);
        const result = await context.onTable(healthTable, () =>
          changeProviderMode(
            { ref, mode, actor, why: options.why, at: context.now().toISOString() },
            { store },
          ),
        );
        const [view] = await readHealth(context, healthTable, [ref]);
        context.out(
          result.outcome === 'recorded'
            ? `${breakerKey(provider, ref.model)}: ${mode} recorded (transition v${view?.version})`
            : `${breakerKey(provider, ref.model)}: already ${result.modeBefore}, nothing recorded`,
        );
      },
    );
}
