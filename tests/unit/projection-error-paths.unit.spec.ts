/**
 * The projection use cases turn whatever a port throws into a reported failure — also values that
 * are not Error instances (a string or a plain object thrown by a hand-written port or a library),
 * which carry no name: they are reported under the generic code `Error` with their text.
 */
import { describe, expect, it } from 'vitest';
import { sendWithPartialRetry } from '../../src/batching/partial-retry.ts';
import { projectRecords } from '../../src/projections/project-records.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { aNoRouteRecord, aRoutedRecord } from '../support/records.ts';

describe('Jobs status error paths', () => {
  it('given the Jobs port rejects with a string, when projecting, then every status it was given fails under code Error telling only the thrown type', async () => {
    const { ports } = fakePorts();
    const jobs = {
      read: ports.jobs.read.bind(ports.jobs),
      write: async (): Promise<never> => {
        throw 'connection reset by peer';
      },
    };

    const outcomes = await projectRecords([aRoutedRecord(), aNoRouteRecord()], { ...ports, jobs });

    expect(outcomes.map((o) => [o.effects.status, o.failure])).toEqual([
      ['failed', { effect: 'status', code: 'Error', message: 'a non-Error value was thrown (string)' }],
      ['failed', { effect: 'status', code: 'Error', message: 'a non-Error value was thrown (string)' }],
    ]);
  });

  it('given a throttled Jobs table, when projecting, then the failure keeps the SDK error name as its code', async () => {
    const throttling = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const { ports } = fakePorts();
    const jobs = {
      read: async (): Promise<never> => {
        throw throttling;
      },
      write: ports.jobs.write.bind(ports.jobs),
    };

    const [outcome] = await projectRecords([aRoutedRecord()], { ...ports, jobs });

    expect(outcome?.failure).toEqual({
      effect: 'status',
      code: 'ProvisionedThroughputExceededException',
      message: 'Rate of requests exceeds the allowed throughput',
    });
    expect(outcome?.effects.dispatch).toBe('not_attempted');
  });
});

describe('sendWithPartialRetry error paths', () => {
  it('given a chunk sender that rejects with a plain object (no answer), when sending, then that chunk is not resent in this invocation (its outcome is unknown) and its entries fail retryable under code Error', async () => {
    let calls = 0;
    const results = await sendWithPartialRetry(
      [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      { maxEntries: 2, maxBatchBytes: 100, maxEntryBytes: 100 },
      () => 1,
      async (chunk) => {
        calls++;
        if (chunk.some((entry) => entry.id === 'a')) throw { reason: 'socket closed' };
        return new Map();
      },
      { extraAttempts: 2, backoffMs: () => 0 },
    );

    expect(calls).toBe(2);
    expect(results.get('a')).toEqual({
      ok: false,
      code: 'Error',
      message: 'a non-Error value was thrown (object)',
      retryable: true,
    });
    expect(results.get('b')).toMatchObject({ ok: false, code: 'Error' });
    expect(results.get('c')).toEqual({ ok: true });
  });

  it('given an entry refused as retryable on every attempt, when the resends run out, then it is reported with the last refusal', async () => {
    const attempts: string[][] = [];
    const results = await sendWithPartialRetry(
      [{ id: 'a' }, { id: 'b' }],
      { maxEntries: 10, maxBatchBytes: 100, maxEntryBytes: 100 },
      () => 1,
      async (chunk) => {
        attempts.push(chunk.map((entry) => entry.id));
        return new Map([['b', { code: 'ThrottlingException', message: 'slow down', retryable: true }]]);
      },
      { extraAttempts: 1, backoffMs: () => 0 },
    );

    expect(attempts).toEqual([['a', 'b'], ['b']]);
    expect(results.get('b')).toEqual({
      ok: false,
      code: 'ThrottlingException',
      message: 'slow down',
      retryable: true,
    });
  });
});

describe('projectRecords error paths', () => {
  it('given the marker store rejects with a string, when projecting, then every record fails at markers under code Error and nothing else runs', async () => {
    const { ports, queues, bus, jobs } = fakePorts();
    const outcomes = await projectRecords([aRoutedRecord(), aNoRouteRecord()], {
      ...ports,
      markers: {
        read: async () => {
          throw 'markers table offline';
        },
        write: async () => undefined,
      },
    });

    expect(outcomes.map((o) => o.failure)).toEqual([
      { effect: 'markers', code: 'Error', message: 'a non-Error value was thrown (string)' },
      { effect: 'markers', code: 'Error', message: 'a non-Error value was thrown (string)' },
    ]);
    expect([queues.calls, bus.calls, jobs.calls]).toEqual([0, 0, 0]);
  });
});
