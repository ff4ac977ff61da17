/**
 * The scheduled WindowCloser (issue 21): due signal windows are closed and judged without waiting
 * for a later signal of the pair — a provisional opening is recorded, a failure rate judged, on time.
 */
import { describe, expect, it, vi } from 'vitest';
import { closeWindowsOnTime } from '../../src/commands/close-windows-on-time.ts';
import { ingestSignalBatch } from '../../src/commands/handle-provider-signal.ts';
import { ConfigurationError } from '../../src/config/load-config.ts';
import { loadWindowCloserConfig } from '../../src/config/window-closer-config.ts';
import { createWindowCloserHandler, windowCloserDependencies } from '../../src/handlers/window-closer.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { closesAtOf } from '../../src/provider-health/signal-windows.ts';
import type { HealthSignal } from '../../src/provider-health/signals.ts';
import { SignalWindowCounter } from '../../src/provider-health/window-counting.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { aTerminalFailureAt } from '../support/failure-signals.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';

quietHandlerTelemetry();

const T0 = Date.parse('2026-11-25T14:00:00.000Z');
const PAIR = { provider: 'fal', model: 'wan-i2v' } as const;

const failureAt = (seconds: number, i: number): HealthSignal => aTerminalFailureAt(T0 + seconds * 1000, i);

/** 5 in-time failures in a row ingested at 5.1 s: open provisionally, nothing recorded yet. */
async function aProvisionalOpening() {
  const log = new InMemoryRoutingLog();
  const store = new InMemoryProviderHealthStore(log);
  const windows = new InMemorySignalWindows();
  const clock = { now: T0 + 5_100 };
  const signals = [1, 2, 3, 4, 5].map((s, i) => failureAt(s, i));
  await ingestSignalBatch(signals, {
    store,
    windows: new SignalWindowCounter({ windows, now: () => clock.now }),
  });
  const sleeps: number[] = [];
  const deps = {
    store,
    windows: { windows, now: () => clock.now },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock.now += ms;
    },
  };
  const transitions = async () => (await log.readStream('health#fal#wan-i2v')).length;
  return { deps, clock, sleeps, transitions, store };
}

describe('closing signal windows on time', () => {
  it('given a provisional opening and no later signal, when the scheduled run starts, then it waits until the window is due and records the transition there', async () => {
    const { deps, clock, sleeps, transitions } = await aProvisionalOpening();
    expect(await transitions()).toBe(0);
    const result = await closeWindowsOnTime([PAIR], deps, { budgetMs: 50_000 });
    expect(sleeps).toEqual([closesAtOf(T0) - (T0 + 5_100)]);
    expect(clock.now).toBe(closesAtOf(T0));
    expect(result.closed.map((w) => w.windowStartMs)).toEqual([T0]);
    expect(await transitions()).toBe(1);
  });

  it('given the next window falls due beyond the run’s budget, then the run ends without waiting (the next run takes it)', async () => {
    const { deps, sleeps, transitions } = await aProvisionalOpening();
    const result = await closeWindowsOnTime([PAIR], deps, { budgetMs: 1_000 });
    expect(sleeps).toEqual([]);
    expect(result).toMatchObject({ rounds: 1, closed: [] });
    expect(await transitions()).toBe(0);
  });

  it('given the scheduled handler, when it runs, then it closes the pairs of the active routing table and says what it did', async () => {
    const { deps, transitions } = await aProvisionalOpening();
    const handler = createWindowCloserHandler(
      { ...deps, rules: fixedRules(defaultRoutingTable), budgetMs: 50_000 },
      createTelemetry('window-closer', 'test'),
    );
    const response = await handler(
      { id: 'tick', 'detail-type': 'Scheduled Event', time: new Date(T0).toISOString() } as never,
      aLocalLambdaContext(),
    );
    expect(response).toMatchObject({ closed: 1, rounds: 2 });
    expect(response.pairs).toBeGreaterThan(1);
    expect(await transitions()).toBe(1);
  });

  it('given nothing open, when the handler runs, then it reads the summaries once and ends', async () => {
    const windows = new InMemorySignalWindows();
    const handler = createWindowCloserHandler(
      {
        store: new InMemoryProviderHealthStore(new InMemoryRoutingLog()),
        windows: { windows, now: () => T0 },
        sleep: vi.fn(),
        rules: fixedRules(defaultRoutingTable),
      },
      createTelemetry('window-closer', 'test'),
    );
    const response = await handler(
      { id: 'tick', 'detail-type': 'Scheduled Event', time: new Date(T0).toISOString() } as never,
      aLocalLambdaContext(),
    );
    expect(response).toMatchObject({ rounds: 1, closed: 0 });
    expect(windows.reads).toBe(1);
  });
});

describe('the window closer’s configuration', () => {
  it('given its tables, then the adapters are built from them', () => {
    const config = loadWindowCloserConfig({
      STAGE: 'test',
      EVENT_LOG_TABLE: 'RoutingLog-test',
      PROVIDER_HEALTH_TABLE: 'ProviderHealth-test',
    });
    expect(config).toEqual({ eventLogTable: 'RoutingLog-test', providerHealthTable: 'ProviderHealth-test' });
    const deps = windowCloserDependencies(config);
    expect(typeof deps.windows.now()).toBe('number');
  });

  it('given no health table, then the configuration is refused naming it', () => {
    expect(() => loadWindowCloserConfig({ STAGE: 'test', EVENT_LOG_TABLE: 'RoutingLog-test' })).toThrow(
      ConfigurationError,
    );
    expect(() => loadWindowCloserConfig({ STAGE: 'test', EVENT_LOG_TABLE: 'RoutingLog-test' })).toThrow(
      /PROVIDER_HEALTH_TABLE/,
    );
  });
});
