import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/log/health-records.ts';
import {
  applyTransition,
  DEFAULT_BREAKER_CONFIG,
  effectiveHealth,
  effectiveStatus,
  type HealthCommand,
  handleHealthCommand,
  initialBreakerState,
  openPeriodMs,
  type RecordAttempt,
  summariseRun,
  transitionsOf,
  type WindowEvidence,
} from '../../src/provider-health/breaker.ts';

const T0 = Date.parse('2026-11-25T14:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

let signalCounter = 0;
const attempt = (
  seconds: number,
  outcome: RecordAttempt['outcome'],
  errorClass: string | null = outcome === 'succeeded' ? null : 'server_error',
  dispatchId: string | null = null,
): RecordAttempt => ({
  type: 'RecordAttempt',
  signalId: `sig-${++signalCounter}`,
  at: at(seconds),
  outcome,
  errorClass,
  dispatchId,
});
const failure = (seconds: number, errorClass = 'server_error') =>
  attempt(seconds, 'failed_terminal', errorClass);
const success = (seconds: number, dispatchId: string | null = null) =>
  attempt(seconds, 'succeeded', null, dispatchId);

/** given(commands) → the state and every transition they recorded. */
const probe = (seconds: number, dispatchId: string): HealthCommand => ({
  type: 'AcquireProbe',
  at: at(seconds),
  dispatchId,
});

function given(commands: readonly HealthCommand[], state = initialBreakerState('fal', 'wan-i2v')) {
  const transitions = [];
  for (const command of commands) {
    const result = handleHealthCommand(state, command);
    transitions.push(...transitionsOf(result.events));
    state = result.state;
  }
  return { state, transitions };
}

const fiveFailures = [0, 1, 2, 3, 4].map((s) => failure(s));

describe('the breaker opens on provider-side failures', () => {
  it('given 4 consecutive server errors, then the breaker stays closed', () => {
    const { state, transitions } = given(fiveFailures.slice(0, 4));
    expect(state.status).toBe('closed');
    expect(transitions).toEqual([]);
  });

  it('given 5 consecutive server errors, then it opens for about 60 s with reason consecutive_failures', () => {
    const { state, transitions } = given(fiveFailures);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      version: 1,
      previousStatus: 'closed',
      status: 'open',
      reason: 'consecutive_failures',
      openings: 1,
      at: at(4),
    });
    const openFor = Date.parse(state.openUntil as string) - Date.parse(at(4));
    expect(openFor).toBeLessThanOrEqual(60_000);
    expect(openFor).toBeGreaterThanOrEqual(60_000 * (1 - DEFAULT_BREAKER_CONFIG.jitterRatio));
  });

  it('given a success between failures, then the consecutive count starts over', () => {
    const { state } = given([failure(0), failure(1), failure(2), failure(3), success(4), failure(5)]);
    expect(state.status).toBe('closed');
    expect(state.consecutiveFailures).toBe(1);
  });

  it.each(['server_eror', 'Server_Error', 'upstream_502'])(
    'given 5 failures of the unclassified class %s, then they count as provider-side (the safe rule) and the transition says unclassified',
    (errorClass) => {
      const { state, transitions } = given([0, 1, 2, 3, 4].map((s) => failure(s, errorClass)));
      expect(state.status).toBe('open');
      expect(transitions.at(-1)?.detail).toBe(`5 consecutive failures (unclassified ${errorClass})`);
    },
  );

  it.each(['invalid_request', 'content_policy', 'input_rejected', 'cancelled', null])(
    'given failures of class %s (not the provider’s fault), then nothing is counted',
    (errorClass) => {
      const { state } = given([0, 1, 2, 3, 4, 5, 6].map((s) => attempt(s, 'failed_terminal', errorClass)));
      expect(state).toEqual(initialBreakerState('fal', 'wan-i2v'));
    },
  );

  it.each(['timeout', 'throttled', 'auth', 'server_error'])(
    'given 5 failures of class %s, then it opens',
    (errorClass) => {
      expect(given([0, 1, 2, 3, 4].map((s) => failure(s, errorClass))).state.status).toBe('open');
    },
  );

  it('given unknown outcomes, then nothing is counted (a paid job may still be running)', () => {
    const { state } = given([0, 1, 2, 3, 4, 5].map((s) => attempt(s, 'unknown', 'timeout')));
    expect(state.consecutiveFailures).toBe(0);
    expect(state).toEqual(initialBreakerState('fal', 'wan-i2v'));
  });

  it('given successes only in the success register, when a failure reads it moved, then the consecutive count starts over', () => {
    const withRegister = (seconds: number, lastSuccessAt: string | null): RecordAttempt => ({
      ...failure(seconds),
      lastSuccessAt,
    });
    const { state } = given([
      withRegister(0, null),
      withRegister(1, null),
      withRegister(2, at(1.5)),
      withRegister(3, at(1.5)),
      withRegister(4, at(1.5)),
      withRegister(5, at(1.5)),
    ]);
    // The register moved once (before the third failure): 4 in a row since, still closed.
    expect(state).toMatchObject({ status: 'closed', consecutiveFailures: 4, successSeenAt: at(1.5) });
    const fifth = given([withRegister(6, at(1.5))], state);
    expect(fifth.transitions[0]).toMatchObject({ status: 'open', reason: 'consecutive_failures' });
  });
});

/** A closed signal window as the failure-rate rule reads it. */
const windowOf = (startSeconds: number, attempts: number, failures: number) => ({
  id: `fal#wan-i2v#${T0 + startSeconds * 1000}`,
  startMs: T0 + startSeconds * 1000,
  endMs: T0 + (startSeconds + 10) * 1000,
  attempts,
  failures,
});
const judge = (...windows: WindowEvidence[]): HealthCommand => ({
  type: 'JudgeWindows',
  windows,
});

describe('the failure-rate rule folds closed signal windows', () => {
  it('given 6 failures among 10 attempts over closed windows (never 5 in a row), then it opens on the failure rate at the window’s end', () => {
    const { state, transitions } = given([judge(windowOf(0, 4, 2), windowOf(10, 6, 4))]);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      status: 'open',
      reason: 'failure_rate',
      at: at(20),
      causedBy: `fal#wan-i2v#${T0 + 10_000}`,
      detail: '6 of 10 attempts failed in 5 min',
    });
    expect(state.windowsJudgedThrough).toBe(T0 + 10_000);
  });

  it('given exactly half of 10 attempts failed, then it stays closed (the rule is strictly above 50 %)', () => {
    const { state, transitions } = given([judge(windowOf(0, 10, 5))]);
    expect(transitions).toEqual([]);
    expect(state).toMatchObject({ status: 'closed', windowsJudgedThrough: T0 });
  });

  it('given fewer than 10 attempts, then no rate is judged however many fail', () => {
    expect(given([judge(windowOf(0, 9, 9))]).state.status).toBe('closed');
  });

  it('given failures older than the 5-minute span, then they no longer count towards the rate', () => {
    const { state } = given([judge(windowOf(0, 10, 10)), judge(windowOf(400, 10, 2))], {
      ...initialBreakerState('fal', 'wan-i2v'),
      windowsJudgedThrough: T0,
    });
    expect(state.status).toBe('closed');
    expect(state.windowsJudgedThrough).toBe(T0 + 400_000);
  });

  it('given windows judged once, when the same windows are judged again, then nothing is decided', () => {
    const { state } = given([judge(windowOf(0, 10, 8))]);
    expect(handleHealthCommand(state, judge(windowOf(0, 10, 8))).events).toEqual([]);
  });

  it('given a transition, then only windows that began after it count (the evidence starts over)', () => {
    const { state } = given(fiveFailures);
    // Forced closed, then back to auto at 300 s: windows from before it never reopen the breaker.
    const mode = (seconds: number, to: 'forced_closed' | 'auto'): HealthCommand => ({
      type: 'ChangeMode',
      signalId: `op-${to}`,
      at: at(seconds),
      mode: to,
      actor: 'ops',
      reason: 'fixed',
    });
    const after = given(
      [mode(299, 'forced_closed'), mode(300, 'auto'), judge(windowOf(280, 20, 20), windowOf(310, 4, 1))],
      state,
    );
    expect(after.state.status).toBe('closed');
    expect(after.transitions.map((t) => t.reason)).toEqual(['operator_forced_closed', 'operator_auto']);
  });

  it('given an open breaker, then windows are judged (marked) but open nothing more', () => {
    const { state } = given(fiveFailures);
    const after = given([judge(windowOf(0, 20, 20))], state);
    expect(after.transitions).toEqual([]);
    expect(after.state.windowsJudgedThrough).toBe(T0);
  });

  it('given the same windows in any order and any split into judgements, then the same transitions and state are rebuilt', () => {
    const windows = fc.array(
      fc.record({ slot: fc.integer({ min: 0, max: 60 }), attempts: fc.nat(30), failed: fc.nat(30) }),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(windows, fc.integer({ min: 1, max: 5 }), fc.nat(), (raw, parts, seed) => {
        // Distinct windows (one per slot), every 10 s of event time.
        const unique = [...new Map(raw.map((w) => [w.slot, w])).values()].map((w) =>
          windowOf(w.slot * 10, w.attempts, Math.min(w.failed, w.attempts)),
        );
        const inOrder = given([judge(...unique)]);
        // Judged as closers would: each judgement holds every window closed so far (a summary),
        // shuffled, the newest closing in `parts` steps.
        const sorted = [...unique].sort((a, b) => a.startMs - b.startMs);
        const cuts = Array.from({ length: parts }, (_, i) => Math.ceil(((i + 1) * sorted.length) / parts));
        const shuffle = <T>(list: T[]) =>
          list
            .map((item, i) => ({ item, key: (i * 7919 + seed) % 104729 }))
            .sort((a, b) => a.key - b.key)
            .map(({ item }) => item);
        const stepwise = given(cuts.map((cut) => judge(...shuffle(sorted.slice(0, cut)))));
        expect(stepwise).toEqual(inOrder);
      }),
    );
  });
});

describe('an open breaker', () => {
  it('given it is open, then a router sees it unhealthy until openUntil, then admits one probe', () => {
    const { state } = given(fiveFailures);
    expect(effectiveHealth(state, at(10))).toBe('unhealthy');
    expect(effectiveHealth(state, state.openUntil as string)).toBe('probe');
  });

  it('given it is open, when late signals of earlier jobs arrive, then nothing changes', () => {
    const { state } = given(fiveFailures);
    expect(given([success(10), failure(11)], state).state).toEqual(state);
  });

  it('given the open period passed, when a probe is leased, then a second probe is refused until the lease expires', () => {
    const { state } = given(fiveFailures);
    const t = Date.parse(state.openUntil as string) / 1000 - T0 / 1000 + 1;
    const first = handleHealthCommand(state, { type: 'AcquireProbe', at: at(t), dispatchId: 'job-1:v1' });
    expect(first.events).toHaveLength(1);
    expect(effectiveHealth(first.state, at(t + 1))).toBe('unhealthy');
    const second = handleHealthCommand(first.state, {
      type: 'AcquireProbe',
      at: at(t + 1),
      dispatchId: 'job-2:v1',
    });
    expect(second.events).toEqual([]);
    const leaseEnd = t + DEFAULT_BREAKER_CONFIG.probeLeaseMs / 1000;
    const afterExpiry = handleHealthCommand(first.state, {
      type: 'AcquireProbe',
      at: at(leaseEnd),
      dispatchId: 'job-2:v1',
    });
    expect(afterExpiry.state.probe?.dispatchId).toBe('job-2:v1');
  });

  it('given the breaker is closed, when a probe is asked for, then none is leased', () => {
    expect(
      handleHealthCommand(initialBreakerState('fal'), { type: 'AcquireProbe', at: at(0), dispatchId: 'j:v1' })
        .events,
    ).toEqual([]);
  });
});

describe('half-open: recovery through probes', () => {
  function halfOpenAt() {
    const { state } = given(fiveFailures);
    return { state, t: (Date.parse(state.openUntil as string) - T0) / 1000 + 1 };
  }

  it('given the open period passed, when 3 probes succeed one after another, then the breaker closes and k resets', () => {
    const { state, t } = halfOpenAt();
    const { state: closed, transitions } = given(
      [probe(t, 'p1:v1'), success(t, 'p1:v1'), probe(t + 1, 'p2:v1'), success(t + 1, 'p2:v1')].concat([
        probe(t + 2, 'p3:v1'),
        success(t + 2, 'p3:v1'),
      ]),
      state,
    );
    expect(transitions.map((x) => [x.previousStatus, x.status, x.reason])).toEqual([
      ['open', 'half_open', 'open_period_elapsed'],
      ['half_open', 'closed', 'probes_succeeded'],
    ]);
    expect(closed).toMatchObject({ status: 'closed', openings: 0, openUntil: null, version: 3 });
  });

  it('given half-open, when explicit jobs that are not the probe succeed, then they are counted but the breaker stays half-open', () => {
    const { state, t } = halfOpenAt();
    const { state: after, transitions } = given(
      [
        probe(t, 'p1:v1'),
        success(t + 1, 'explicit-1:v1'),
        success(t + 2, 'explicit-2:v1'),
        success(t + 3, 'explicit-3:v1'),
      ],
      state,
    );
    expect(transitions.map((x) => x.status)).toEqual(['half_open']);
    expect(after).toMatchObject({ status: 'half_open', probeSuccesses: 0, probe: { dispatchId: 'p1:v1' } });
  });

  it('given half-open, when the probe succeeds and its report is repeated, then it counts once and the breaker stays half-open', () => {
    const { state, t } = halfOpenAt();
    const { state: after, transitions } = given(
      [probe(t, 'p1:v1'), success(t + 1, 'p1:v1'), success(t + 2, 'p1:v1'), success(t + 3, 'p1:v1')],
      state,
    );
    expect(transitions.map((x) => x.status)).toEqual(['half_open']);
    expect(after).toMatchObject({ status: 'half_open', probeSuccesses: 1, probe: null });
  });

  it('given a probe was leased, when its attempt succeeds, then the lease is released for the next probe', () => {
    const { state, t } = halfOpenAt();
    const leased = handleHealthCommand(state, { type: 'AcquireProbe', at: at(t), dispatchId: 'p1:v1' }).state;
    const after = given([success(t + 5, 'p1:v1')], leased).state;
    expect(after.probe).toBeNull();
    expect(effectiveHealth(after, at(t + 6))).toBe('probe');
  });

  it('given a probe was leased, when its attempt fails for a client-side reason, then only the lease is released', () => {
    const { state, t } = halfOpenAt();
    const leased = handleHealthCommand(state, { type: 'AcquireProbe', at: at(t), dispatchId: 'p1:v1' }).state;
    const after = handleHealthCommand(leased, {
      ...attempt(t + 5, 'failed_terminal', 'invalid_request', 'p1:v1'),
    });
    expect(after.events).toEqual([{ type: 'ProbeReleased', dispatchId: 'p1:v1' }]);
    expect(after.state.probe).toBeNull();
  });

  it('given half-open, when one probe fails, then it reopens for twice as long (k = 2)', () => {
    const { state, t } = halfOpenAt();
    const { state: reopened, transitions } = given([success(t), failure(t + 1)], state);
    expect(transitions.at(-1)).toMatchObject({
      previousStatus: 'half_open',
      status: 'open',
      reason: 'probe_failed',
      openings: 2,
    });
    const openFor = Date.parse(reopened.openUntil as string) - Date.parse(at(t + 1));
    expect(openFor).toBeGreaterThan(60_000);
    expect(openFor).toBeLessThanOrEqual(120_000);
  });

  it('given a long outage, then the open period grows to at most 30 minutes', () => {
    for (let k = 0; k < 40; k++) {
      expect(openPeriodMs('fal', k + 1, k, DEFAULT_BREAKER_CONFIG)).toBeLessThanOrEqual(30 * 60_000);
    }
    expect(openPeriodMs('fal', 9, 8, DEFAULT_BREAKER_CONFIG)).toBeGreaterThanOrEqual(30 * 60_000 * 0.8);
  });
});

describe('operator modes', () => {
  const force = (mode: 'forced_open' | 'forced_closed' | 'auto', seconds = 0): HealthCommand => ({
    type: 'ChangeMode',
    signalId: `op-${mode}-${seconds}`,
    at: at(seconds),
    mode,
    actor: 'ops@example.com',
    reason: 'fal status page: incident',
  });

  it('given forced_open, then the provider is unhealthy whatever the signals say, and auto gives it back closed', () => {
    const { state, transitions } = given([
      force('forced_open'),
      success(1),
      success(2),
      success(3),
      success(4),
    ]);
    expect(effectiveHealth(state, at(5))).toBe('unhealthy');
    const back = given([force('auto', 6)], state);
    expect(back.state).toMatchObject({ status: 'closed', mode: 'auto' });
    expect([...transitions, ...back.transitions].map((x) => [x.mode, x.actor])).toEqual([
      ['forced_open', 'ops@example.com'],
      ['auto', 'ops@example.com'],
    ]);
  });

  it('given forced_closed, then failures never open it', () => {
    const { state } = given([force('forced_closed'), ...[1, 2, 3, 4, 5, 6, 7].map((s) => failure(s))]);
    expect(effectiveStatus(state, at(8))).toBe('closed');
    expect(state.version).toBe(1);
  });

  it('given a mode is set twice, then the second changes nothing (no transition)', () => {
    expect(given([force('forced_open'), force('forced_open', 1)]).transitions).toHaveLength(1);
  });
});

describe('replay', () => {
  const commandArbitrary = fc.oneof(
    fc.record({
      type: fc.constant('RecordAttempt' as const),
      outcome: fc.constantFrom('succeeded', 'failed_terminal', 'failed_retryable', 'unknown'),
      errorClass: fc.constantFrom('server_error', 'timeout', 'throttled', 'auth', 'invalid_request', null),
      dispatchId: fc.constantFrom('p1:v1', 'p2:v1', null),
    }),
    fc.record({
      type: fc.constant('ChangeMode' as const),
      mode: fc.constantFrom('auto', 'forced_open', 'forced_closed'),
    }),
    fc.record({ type: fc.constant('AcquireProbe' as const), dispatchId: fc.constantFrom('p1:v1', 'p2:v1') }),
  );
  const script = fc.array(fc.tuple(commandArbitrary, fc.integer({ min: 0, max: 400 })), { maxLength: 120 });

  function toCommands(steps: readonly [Record<string, unknown>, number][]): HealthCommand[] {
    let seconds = 0;
    return steps.map(([c, gap], i) => {
      seconds += gap;
      if (c.type === 'RecordAttempt') return { ...c, signalId: `s${i}`, at: at(seconds) } as HealthCommand;
      if (c.type === 'ChangeMode')
        return { ...c, signalId: `s${i}`, at: at(seconds), actor: 'ops', reason: 'r' } as HealthCommand;
      return { ...c, at: at(seconds) } as HealthCommand;
    });
  }

  it('given any sequence of signals, when it is replayed, then the same state and transitions are rebuilt', () => {
    fc.assert(
      fc.property(script, (steps) => {
        const commands = toCommands(steps);
        expect(given(commands)).toEqual(given(commands));
      }),
    );
  });

  it('given any sequence of signals, when only the recorded transitions are folded, then the health view is the same', () => {
    fc.assert(
      fc.property(script, (steps) => {
        const { state, transitions } = given(toCommands(steps));
        const rebuilt = transitions.reduce(applyTransition, initialBreakerState('fal', 'wan-i2v'));
        const view = (s: BreakerState) => [
          s.version,
          s.status,
          s.mode,
          s.since,
          s.reason,
          s.openUntil,
          s.openings,
        ];
        expect(view(rebuilt)).toEqual(view(state));
        // Versions are gapless: each transition is the next record of the health stream.
        expect(transitions.map((x) => x.version)).toEqual(transitions.map((_, i) => i + 1));
      }),
    );
  });
});

// ------------------------------------------------------------------------------ issue 21: event time

/** A closed window of counted evidence at these seconds ('F' failure, 'S' success), run summary included. */
function windowWith(startSeconds: number, evidence: readonly [number, 'F' | 'S'][]) {
  const run = summariseRun(
    evidence.map(([s, kind], i) => ({
      atMs: T0 + s * 1000,
      key: `attempt-${startSeconds}-${i}`,
      failed: kind === 'F',
      errorClass: kind === 'F' ? 'server_error' : null,
    })),
  );
  const failures = evidence.filter(([, kind]) => kind === 'F').length;
  return { ...windowOf(startSeconds, evidence.length, failures), run };
}

const inTime = (command: RecordAttempt): RecordAttempt => ({ ...command, windowed: true });

describe('the consecutive rule in event time (issue 21)', () => {
  it('given 5 counted failures that arrive out of order, then the opening is at the 5th in event time, whichever arrived last', () => {
    const failures = [3, 0, 4, 1, 2].map((s) => failure(s));
    const { transitions } = given(failures);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      at: at(4),
      causedBy: failures[2]?.signalId,
      reason: 'consecutive_failures',
    });
  });

  it('given 5 in-time failures in a row, then the fast path opens provisionally: routers see it open at once, and no transition is recorded yet', () => {
    const { state, transitions } = given([0, 1, 2, 3, 4].map((s) => inTime(failure(s))));
    expect(transitions).toEqual([]);
    expect(state.status).toBe('closed');
    expect(state.provisional).toMatchObject({ at: at(4), version: 1 });
    expect(effectiveStatus(state, at(5))).toBe('open');
    expect(effectiveHealth(state, at(5))).toBe('unhealthy');
  });

  it('given a provisional opening, when its window closes holding the same run, then the fold records the very transition the fast path announced', () => {
    const failures = [0, 1, 2, 3, 4].map((s) => inTime(failure(s)));
    const { state } = given(failures);
    const provisional = state.provisional;
    const run = summariseRun(
      failures.map((f) => ({
        atMs: Date.parse(f.at),
        key: f.signalId,
        failed: true,
        errorClass: 'server_error',
      })),
    );
    const after = given([judge({ ...windowOf(0, 5, 5), run })], state);
    expect(after.transitions).toHaveLength(1);
    expect(after.transitions[0]).toMatchObject({
      at: provisional?.at,
      causedBy: provisional?.causedBy,
      openUntil: provisional?.openUntil,
      version: provisional?.version,
      reason: 'consecutive_failures',
      detail: '5 consecutive failures (server_error)',
    });
    expect(after.state.provisional).toBeNull();
  });

  it('given a provisional opening, when its window shows a success inside the run (it arrived after the trigger), then the opening is withdrawn and nothing is recorded', () => {
    const { state } = given([0, 1, 2, 4, 5].map((s) => inTime(failure(s))));
    expect(state.provisional).not.toBeNull();
    const window = windowWith(0, [
      [0, 'F'],
      [1, 'F'],
      [2, 'F'],
      [3, 'S'],
      [4, 'F'],
      [5, 'F'],
    ]);
    const { events, state: after } = handleHealthCommand(state, judge(window));
    expect(transitionsOf(events)).toEqual([]);
    expect(events.map((e) => e.type)).toContain('ProvisionalWithdrawn');
    expect(effectiveStatus(after, at(11))).toBe('closed');
    expect(after.consecutiveFailures).toBe(0);
  });

  it('given runs of failures that cross window boundaries, then the fold carries the run and opens at the failure that completes 5', () => {
    const first = windowWith(0, [
      [1, 'S'],
      [7, 'F'],
      [8, 'F'],
    ]);
    const second = windowWith(10, [
      [11, 'F'],
      [12, 'F'],
      [13, 'F'],
      [14, 'F'],
    ]);
    const { transitions, state } = given([judge(first, second)]);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      at: at(13),
      causedBy: 'attempt-10-2',
      reason: 'consecutive_failures',
    });
    expect(state.runCarried).toBe(0);
  });

  it('given a run broken by a success in the next window, then the carried run starts over and nothing opens', () => {
    const { transitions, state } = given([
      judge(
        windowWith(0, [
          [7, 'F'],
          [8, 'F'],
          [9, 'F'],
        ]),
        windowWith(10, [
          [10, 'F'],
          [11, 'S'],
          [12, 'F'],
        ]),
      ),
    ]);
    expect(transitions).toEqual([]);
    expect(state.runCarried).toBe(1);
  });

  it('given a run of 5 after a success inside one window, then it opens at its 5th failure', () => {
    const { transitions } = given([
      judge(
        windowWith(0, [
          [0, 'F'],
          [1, 'S'],
          [2, 'F'],
          [3, 'F'],
          [4, 'F'],
          [5, 'F'],
          [6, 'F'],
          [7, 'F'],
        ]),
      ),
    ]);
    expect(transitions[0]).toMatchObject({ at: at(6), causedBy: 'attempt-0-6' });
  });

  it('given a window of an older record without a run summary, then the consecutive rule takes nothing from it (the rate rule still does)', () => {
    const { transitions, state } = given([judge(windowOf(0, 12, 12))]);
    expect(transitions.map((t) => t.reason)).toEqual(['failure_rate']);
    expect(state.runCarried ?? 0).toBe(0);
  });

  it('given a failure the windows refuse as late (not windowed), then the fast path records the opening at once, as before', () => {
    const { transitions, state } = given([0, 1, 2, 3, 4].map((s) => failure(s)));
    expect(transitions).toHaveLength(1);
    expect(state.provisional ?? null).toBeNull();
  });

  it('given a transition, when failures follow in the window it happened in, then they join no run (the windows that began after it count, as for the rate rule)', () => {
    const force = (mode: 'forced_closed' | 'auto', seconds: number): HealthCommand => ({
      type: 'ChangeMode',
      signalId: `op-${mode}-${seconds}`,
      at: at(seconds),
      mode,
      actor: 'ops',
      reason: 'r',
    });
    const { state } = given([
      force('forced_closed', 1),
      force('auto', 2),
      ...[3, 4, 5, 6, 7, 8].map((s) => failure(s)),
    ]);
    expect(state).toMatchObject({ status: 'closed', consecutiveFailures: 0 });
    const next = given(
      [10, 11, 12, 13, 14].map((s) => failure(s)),
      state,
    );
    expect(next.transitions[0]).toMatchObject({ at: at(14), reason: 'consecutive_failures' });
  });
});

describe('the run summary of a window', () => {
  it('given evidence in any order, then the summary is the same (event time, ties by key)', () => {
    const evidence = [
      { atMs: 5, key: 'b', failed: true, errorClass: 'timeout' },
      { atMs: 5, key: 'a', failed: false, errorClass: null },
      { atMs: 1, key: 'c', failed: true, errorClass: 'timeout' },
      { atMs: 9, key: 'd', failed: true, errorClass: 'timeout' },
    ];
    const summary = summariseRun(evidence);
    expect(summariseRun([...evidence].reverse())).toEqual(summary);
    expect(summary).toMatchObject({ lead: 1, trail: 2, successes: true });
    expect(summary.reaching.slice(0, 2).map((p) => p?.key)).toEqual(['b', 'd']);
  });
});
