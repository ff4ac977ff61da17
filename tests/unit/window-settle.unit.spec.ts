/**
 * The window-close race (issue 21): ingest admits a signal until its window's end + grace, and a
 * closer reads the window once it is due. Were "due" the end of admission itself, a signal admitted
 * just before it — its write still on the way — could land after a closer read the window: stored
 * but in no closed record, or counted by one closer and not another. Windows now close only
 * WINDOW_SETTLE_MS after admission ends (the longest an admitted write can still be on its way:
 * the HealthSignals function's timeout plus a margin), and a batch is judged in time or late at
 * one admission instant, for the breaker and the windows alike. An injected clock and a gated
 * store make each interleaving happen exactly.
 */
import { describe, expect, it } from 'vitest';
import { closeWindowsOnTime } from '../../src/commands/close-windows-on-time.ts';
import { handleProviderSignals } from '../../src/commands/handle-provider-signal.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import type { ClosedWindow, SignalWindowStore, WindowFact } from '../../src/ports/signal-windows.ts';
import {
  closesAtOf,
  completedFact,
  foldWindows,
  isDue,
  isLate,
  SIGNAL_HANDLING_MAX_MS,
  WINDOW_GRACE_MS,
  WINDOW_MS,
  WINDOW_SETTLE_MS,
  WRITE_LANDS_MS,
  windowStartOf,
} from '../../src/provider-health/signal-windows.ts';
import {
  closeDueWindows,
  countSignals,
  SignalWindowCounter,
} from '../../src/provider-health/window-counting.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { readTemplate } from '../../src/template/cloudformation-template.ts';
import { aTerminalFailureAt } from '../support/failure-signals.ts';

const T0 = Date.parse('2026-11-25T14:00:00.000Z');
const PAIR = { provider: 'fal', model: 'wan-i2v' } as const;
/** The end of admission of the window [T0, T0 + 10 s). */
const ADMISSION_ENDS = T0 + WINDOW_MS + WINDOW_GRACE_MS;

const success = (key: string, atMs: number): WindowFact =>
  completedFact({ key, atMs, ...PAIR, outcome: 'succeeded', errorClass: null, runMs: 30_000 });

/** A store whose next ingest waits until `release()`: a write still on its way. */
function gatedStore(inner: SignalWindowStore) {
  let open: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  const store: SignalWindowStore = {
    ingest: async (facts) => {
      if (gate) await gate;
      return inner.ingest(facts);
    },
    readWindows: (windows, options) => inner.readWindows(windows, options),
    storeClosed: (window, keep) => inner.storeClosed(window, keep),
    readSummaries: (pairs) => inner.readSummaries(pairs),
    readClosed: (pair, start) => inner.readClosed(pair, start),
  };
  return {
    store,
    hold: () => {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release: () => {
      gate = null;
      open();
    },
  };
}

describe('the two instants of a window', () => {
  it('given a window, then it admits until its end + grace and is due only WINDOW_SETTLE_MS later', () => {
    expect(WINDOW_SETTLE_MS).toBe(SIGNAL_HANDLING_MAX_MS + WRITE_LANDS_MS);
    expect(isLate(T0, ADMISSION_ENDS - 1)).toBe(false);
    expect(isLate(T0, ADMISSION_ENDS)).toBe(true);
    expect(isDue(T0, ADMISSION_ENDS)).toBe(false);
    expect(isDue(T0, closesAtOf(T0) - 1)).toBe(false);
    expect(isDue(T0, closesAtOf(T0))).toBe(true);
    expect(closesAtOf(T0)).toBe(ADMISSION_ENDS + WINDOW_SETTLE_MS);
  });

  it('given template.yaml, then no function that counts signals may run longer than the settle allows for', () => {
    // A function counts signals when its entry point is the HealthSignals handler (any ingress that
    // reuses it, an SQS source or another, is held to the same bound).
    const template = readTemplate();
    const globalTimeout = Number(template.Globals.Function.Timeout ?? 3);
    const counting = Object.entries(template.Resources).filter(([, resource]) => {
      if (resource.Type !== 'AWS::Serverless::Function') return false;
      return String(resource.Properties?.Handler ?? '').startsWith('health-signals.');
    });
    expect(counting.map(([id]) => id)).toContain('HealthSignalsFunction');
    const tooLong = counting
      .map(([id, resource]) => ({
        id,
        timeoutMs: Number(resource.Properties?.Timeout ?? globalTimeout) * 1000,
      }))
      .filter(({ timeoutMs }) => !(timeoutMs <= SIGNAL_HANDLING_MAX_MS));
    expect(tooLong).toEqual([]);
  });
});

describe('a signal admitted just before its window stops admitting', () => {
  it('given its write still on the way when admission ends, when closers run on time, then the closed record counts it — it is never stored but uncounted', async () => {
    const memory = new InMemorySignalWindows();
    const { store, hold, release } = gatedStore(memory);
    const clock = { now: T0 + 2_000 };
    const deps = { windows: store, now: () => clock.now };
    const early = success('attempt-early', T0 + 1_000);
    const last = success('attempt-last', T0 + 9_000);
    expect(await countSignals([early], deps)).toEqual(['counted']);

    // The last signal is admitted 1 ms before admission ends; its write is slow to land.
    clock.now = ADMISSION_ENDS - 1;
    hold();
    const counting = countSignals([last], deps);
    // A closer runs the moment admission has ended, and again while the write is on its way.
    clock.now = ADMISSION_ENDS;
    expect((await closeDueWindows([PAIR], deps)).closed).toEqual([]);
    clock.now = ADMISSION_ENDS + WINDOW_SETTLE_MS - WRITE_LANDS_MS;
    expect((await closeDueWindows([PAIR], deps)).closed).toEqual([]);
    release();
    expect(await counting).toEqual(['counted']);

    // Due: the closer reads the window with both writes landed.
    clock.now = closesAtOf(T0);
    const { closed } = await closeDueWindows([PAIR], deps);
    expect(closed).toEqual(foldWindows([early, last]));
    expect(await memory.readClosed(PAIR, T0)).toEqual(foldWindows([early, last])[0]);
  });

  it('given a runner without a timeout that takes too long between admission and write, then the fact is refused late and not stored, never stored after a closer read', async () => {
    const windows = new InMemorySignalWindows();
    const clock = { now: closesAtOf(T0) - WRITE_LANDS_MS };
    const last = success('attempt-slow', T0 + 9_000);
    // Admitted in time, but written only now: it could land after a closer read the window.
    expect(await countSignals([last], { windows, now: () => clock.now }, ADMISSION_ENDS - 1)).toEqual([
      'late',
    ]);
    expect((await windows.readSummaries([PAIR])).get('fal#wan-i2v')?.open).toEqual([]);
    // Just in time, it is counted.
    clock.now -= 1;
    expect(await countSignals([last], { windows, now: () => clock.now }, ADMISSION_ENDS - 1)).toEqual([
      'counted',
    ]);
  });

  it('given a window one closer closed, when a fact lands after it and another closer closes it again, then both report and judge the one record that stays', async () => {
    const windows = new InMemorySignalWindows();
    const now = () => closesAtOf(T0);
    const first = success('attempt-1', T0 + 1_000);
    await windows.ingest([first]);
    const a = await closeDueWindows([PAIR], { windows, now });
    // A write that outlived every bound (not possible within the function's timeout): it lands
    // after the first close and lists the window as open again.
    await windows.ingest([success('attempt-2', T0 + 2_000)]);
    const b = await closeDueWindows([PAIR], { windows, now });
    const stored = (await windows.readClosed(PAIR, T0)) as ClosedWindow;
    expect(a.closed).toEqual([stored]);
    expect(b.closed).toEqual([stored]);
    expect(b.summaries.get('fal#wan-i2v')?.closed).toEqual([stored]);
    expect(stored).toEqual(foldWindows([first])[0]);
  });
});

const failureAt = aTerminalFailureAt;

describe('one admission instant per batch, for the breaker and the windows', () => {
  it('given five failures in a row admitted just before admission ends, when the batch’s other steps take longer than the grace left, then the windows count every signal the breaker took as windowed and the closer records the opening', async () => {
    const log = new InMemoryRoutingLog();
    const store = new InMemoryProviderHealthStore(log);
    const windows = new InMemorySignalWindows();
    const clock = { now: ADMISSION_ENDS - 500 };
    // Each slot release reads the rules in force: slow here, 1 s each, so the batch writes its
    // windows after admission ended.
    const rules = fixedRules(defaultRoutingTable);
    const slowRules = {
      current: async () => {
        clock.now += 1_000;
        return rules.current();
      },
    };
    const signals = [1, 2, 3, 4, 5].map((s, i) => failureAt(T0 + s * 1_000, i));
    const outcomes = await handleProviderSignals(
      signals.map((signal) => ({ kind: 'health' as const, signal })),
      {
        store,
        slots: { ledger: new InMemorySlotLedger(), rules: slowRules },
        windows: new SignalWindowCounter({ windows, now: () => clock.now }),
      },
    );
    expect(clock.now).toBeGreaterThanOrEqual(ADMISSION_ENDS + 4_000);
    // The fifth failure opened the breaker provisionally (left to the fold): its window holds it.
    const last = outcomes.at(-1);
    expect(last).toMatchObject({ kind: 'health', result: { provisional: expect.anything() } });
    expect(outcomes.map((o) => (o.kind === 'failed' ? 'failed' : o.counted))).toEqual(
      Array(5).fill('counted'),
    );
    // Traffic stops; the scheduled closer closes the window when due and records the opening.
    await closeWindowsOnTime(
      [PAIR],
      {
        store,
        windows: { windows, now: () => clock.now },
        sleep: async (ms) => {
          clock.now += ms;
        },
      },
      { budgetMs: WINDOW_SETTLE_MS + WINDOW_MS },
    );
    expect(clock.now).toBe(closesAtOf(windowStartOf(T0)));
    const transitions = (await log.readStream('health#fal#wan-i2v')).map(
      (record) => (record.data as { transition: { reason: string; at: string } }).transition,
    );
    expect(transitions).toMatchObject([
      { reason: 'consecutive_failures', at: new Date(T0 + 5_000).toISOString() },
    ]);
  });
});
