/**
 * The records a breaker's stream is appended with: built from one decision's change, and checked
 * and split back into what the store writes.
 */
import { describe, expect, it } from 'vitest';
import {
  breakerRecordsOf,
  breakerWriteOf,
  countedRecordsOf,
  markersWriteOf,
} from '../../src/log/breaker-records.ts';
import { healthChangedRecord, InvalidAppendError } from '../../src/log/routing-records.ts';
import { initialBreakerState } from '../../src/provider-health/breaker.ts';
import { aTransition } from '../support/provider-health-contract.ts';

const AT = '2026-11-25T14:00:04.000Z';

describe('breaker records', () => {
  it('given a change, when built, then its signals, its transitions and the state they left follow each other on health#<key>', () => {
    const state = { ...initialBreakerState('fal', 'wan-i2v'), status: 'open' as const, version: 1 };
    const transition = aTransition('fal', 1, { key: 'fal#wan-i2v', model: 'wan-i2v' });
    const records = breakerRecordsOf({
      state,
      at: AT,
      signals: [
        { signalId: 'd1:a1', at: '2026-11-25T14:00:01.000Z' },
        { signalId: 'd2:a1', at: AT },
      ],
      transitions: [transition],
    });
    const stream = 'health#fal#wan-i2v';
    expect(records).toEqual([
      {
        type: 'HealthSignalCounted',
        data: { signalId: 'd1:a1' },
        metadata: { stream, recordedAt: '2026-11-25T14:00:01.000Z' },
      },
      { type: 'HealthSignalCounted', data: { signalId: 'd2:a1' }, metadata: { stream, recordedAt: AT } },
      healthChangedRecord(transition),
      { type: 'BreakerStateRecorded', data: { state }, metadata: { stream, recordedAt: AT } },
    ]);
  });

  it('given the records of a change, when an adapter splits them, then it gets back the change at the expected revision', () => {
    const state = initialBreakerState('fal');
    const transition = aTransition('fal');
    const signals = [{ signalId: 'd1:a1', at: AT }];
    const records = breakerRecordsOf({ state, at: AT, signals, transitions: [transition] });
    expect(breakerWriteOf('health#fal', records, 7, 100)).toEqual({
      key: 'fal',
      stream: 'health#fal',
      expectedRev: 7,
      state,
      at: AT,
      signals,
      transitions: [healthChangedRecord(transition)],
    });
  });

  it('given counted signals alone, when appended with no expected version, then the adapter gets their markers; a state beside them is refused as invalid', () => {
    const signals = [
      { signalId: 'd1:a1', at: '2026-11-25T14:00:01.000Z' },
      { signalId: 'd2:a1', at: AT },
    ];
    const records = countedRecordsOf('fal', signals);
    expect(records.every((r) => r.type === 'HealthSignalCounted' && r.metadata.stream === 'health#fal')).toBe(
      true,
    );
    expect(markersWriteOf('health#fal', records, 100)).toEqual({ stream: 'health#fal', signals });
    const withState = breakerRecordsOf({ state: initialBreakerState('fal'), at: AT, signals });
    expect(() => markersWriteOf('health#fal', withState, 100)).toThrow(InvalidAppendError);
    expect(() => markersWriteOf('health#fal', records, 1)).toThrow(InvalidAppendError);
  });
});
