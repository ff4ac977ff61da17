/**
 * The health path's AWS envelope on the deployed batch path (HealthSignalsRule → HealthSignalsQueue →
 * the function in batches): its arithmetic, read from template.yaml's settings.
 */
import { describe, expect, it } from 'vitest';
import { templateSettings } from '../../bench/scale-envelope.ts';
import {
  ASSUMED_SIGNAL_MS,
  batchMs,
  envelopeFloor,
  type SignalSettings,
  signalEnvelope,
  signalSettings,
} from '../../bench/signals-envelope.ts';

const row = (lines: ReturnType<typeof signalEnvelope>, prefix: string) =>
  lines.find((line) => line.limit.startsWith(prefix));

describe('the signals envelope', () => {
  it('given template.yaml, when the signal settings are read, then they are the event source’s: batches of 100 within 1 s, 200 at once', () => {
    expect(signalSettings()).toEqual({
      batchSize: 100,
      batchingWindowSec: 1,
      maxConcurrency: 200,
      memoryMb: 256,
    });
  });

  it('given a batch, when its time is computed, then it is the breakers’ waits, the job streams in rounds of 16, the window writes and the CPU scaled to the memory size', () => {
    const s: SignalSettings = { batchSize: 100, batchingWindowSec: 1, maxConcurrency: 10, memoryMb: 1769 };
    const time = batchMs(s, 0);
    expect(time.runs).toBe(1);
    expect(time.total).toBeCloseTo(
      ASSUMED_SIGNAL_MS.breakerRead +
        ASSUMED_SIGNAL_MS.registerWrite +
        7 * ASSUMED_SIGNAL_MS.jobStream +
        ASSUMED_SIGNAL_MS.windowWrites +
        100 * ASSUMED_SIGNAL_MS.handlerCpu,
      6,
    );
    const source = row(signalEnvelope(templateSettings(), 0, s), 'HealthSignals event source');
    expect(source?.perSecond).toBeCloseTo((10 * 100 * 1000) / time.total, 6);
  });

  it('given batches of 100 rather than one signal a call, when the table rows are computed, then the batch lifts them by far more than tenfold', () => {
    const batch: SignalSettings = signalSettings();
    const single: SignalSettings = { ...batch, batchSize: 1 };
    const table = (s: SignalSettings) =>
      row(signalEnvelope(templateSettings(), 0.004, s), 'ProviderHealth on-demand')?.perSecond ?? 0;
    expect(table(single)).toBeLessThan(20_000);
    expect(table(batch)).toBeGreaterThan(10 * table(single));
  });

  it('given the template’s defaults, when the per-provider figure is computed, then it is the lowest row and reaches 10,000 signals/s at 0.4 % and at 2 % counted failures, where neither the breaker item nor the event source (200 at once) binds but the account’s EventBridge invocations of the bus path', () => {
    const lines = signalEnvelope();
    const floor = envelopeFloor(lines);
    expect(floor).toBe(Math.min(...lines.map((l) => l.perSecond)));
    expect(floor).toBeGreaterThanOrEqual(10_000);
    const atTwoPercent = signalEnvelope(templateSettings(), 0.02);
    expect(envelopeFloor(atTwoPercent)).toBeGreaterThanOrEqual(10_000);
    expect(atTwoPercent.find((l) => l.perSecond === envelopeFloor(atTwoPercent))?.limit).toMatch(
      /EventBridge target invocations/,
    );
    expect(row(atTwoPercent, 'HealthSignals event source')?.perSecond).toBeGreaterThan(20_000);
    expect(row(atTwoPercent, 'counted failures')?.perSecond).toBeGreaterThan(20_000);
  });

  it('given counted failures, when the breaker row is computed, then only batches whose newest counted attempt is a failure commit on the breaker item; the others holding a failure write markers alone', () => {
    const s: SignalSettings = { batchSize: 100, batchingWindowSec: 1, maxConcurrency: 100, memoryMb: 256 };
    const breaker = (share: number) =>
      row(signalEnvelope(templateSettings(), share, s), 'counted failures')?.perSecond ?? 0;
    const commitsPerSecond = 1000 / ASSUMED_SIGNAL_MS.breakerCommit;
    // A share q of the batches ends on a failure: one commit each, carrying the batch's failures.
    expect(breaker(0.004)).toBeCloseTo((commitsPerSecond * 100) / 0.004, 6);
    expect(breaker(0.02)).toBeCloseTo((commitsPerSecond * 100) / 0.02, 6);
    expect(batchMs(s, 0.02).commits).toBeCloseTo(0.02, 9);
    // The rest of the batches holding a failure: (1 − q) × (1 − (1 − q)^(BatchSize − 1)).
    expect(batchMs(s, 0.02).marks).toBeCloseTo(0.98 * (1 - 0.98 ** 99), 9);
  });
});
