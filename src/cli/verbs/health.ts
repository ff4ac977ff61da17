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
import { changeProviderMode } from '../../commands/record-health-signal.ts';
import type { BreakerMode } from '../../log/health-records.ts';
import type { BreakerRef } from '../../ports/provider-health-store.ts';
import { windowPairKey } from '../../ports/signal-windows.ts';
import { breakerKey, initialBreakerState } from '../../provider-health/breaker.ts';
import { type BreakerView, breakerRefsOf, breakerView } from '../../provider-health/health-view.ts';
import { breakerEvidenceOf } from '../../provider-health/signal-windows.ts';
import { defaultRoutingTable } from '../../routing/default-table.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { jsonLine, orDash, renderTable } from '../output.ts';
import { checkBreakerName, publishedTables } from '../vocabulary.ts';

const storeOf = (context: CliContext, healthTable: string) =>
  context.ports().providerHealth(healthTable).store;

export async function readHealth(
  context: CliContext,
  healthTable: string,
  refs: readonly BreakerRef[],
): Promise<BreakerView[]> {
  const { store, windows } = context.ports().providerHealth(healthTable);
  const stored = await context.onTable(healthTable, () => store.readMany(refs));
  // The failure-rate evidence is the pairs' closed signal windows (one BatchGetItem of summaries).
  const summaries = await context.onTable(healthTable, () => windows.readSummaries(refs));
  const now = context.now().toISOString();
  return refs.map((ref) => {
    const state =
      stored.get(breakerKey(ref.provider, ref.model))?.state ?? initialBreakerState(ref.provider, ref.model);
    const closed = summaries.get(windowPairKey(ref))?.closed ?? [];
    return breakerView(state, now, closed.map(breakerEvidenceOf));
  });
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
        const views = await readHealth(context, context.healthTable(options.healthTable), refs);
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
        const healthTable = context.healthTable(options.healthTable);
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
