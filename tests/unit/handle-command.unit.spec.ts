import { describe, expect, it } from 'vitest';
import { conflictBackoffMs, DEFAULT_MAX_ATTEMPTS, handleCommand } from '../../src/commands/handle-command.ts';
import { CommandContendedError, RoutingManagerError, VersionConflictError } from '../../src/errors.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

/** A stream of numbers whose append conflicts the first `conflicts` times, as a racing writer would. */
function aContendedStream(conflicts: number) {
  const stored: number[] = [];
  const calls: string[] = [];
  let raced = 0;
  const steps = {
    read: async () => {
      calls.push('read');
      return [...stored];
    },
    decide: (state: number[]) => state.length + 1,
    append: async (next: number) => {
      calls.push(`append ${next}`);
      if (raced < conflicts) {
        raced++;
        stored.push(0); // the other writer's event takes the version
        throw new VersionConflictError('numbers', next);
      }
      stored.push(next);
      return { appended: next };
    },
  };
  return { steps, stored, calls };
}

const recordingSleep = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('handleCommand: read → decide → append, retried only on a version conflict', () => {
  it('given two conflicts, when handled, then it reads and decides again after each, waits a growing backoff, and appends', async () => {
    const { steps, stored, calls } = aContendedStream(2);
    const { waits, sleep } = recordingSleep();
    const result = await handleCommand(steps, { sleep, backoffMs: (n) => 10 * n });
    expect(result).toEqual({ appended: 3 });
    expect(stored).toEqual([0, 0, 3]);
    expect(calls).toEqual(['read', 'append 1', 'read', 'append 2', 'read', 'append 3']);
    expect(waits).toEqual([10, 20]);
  });

  it('given a conflict that says what was recorded before, when the backoff is asked, then it is given the conflict and may wait nothing', async () => {
    const { waits, sleep } = recordingSleep();
    const seen: unknown[] = [];
    let appends = 0;
    const answer = await handleCommand(
      {
        read: async (conflict?: VersionConflictError) =>
          (conflict?.existing as string | undefined) ?? 'fresh',
        decide: (state) => state,
        append: async (state) => {
          if (appends++ === 0) throw new VersionConflictError('numbers', 1, { existing: 'counted before' });
          return state;
        },
      },
      {
        sleep,
        backoffMs: (n, conflict) => {
          seen.push(conflict.existing);
          return conflict.existing === 'counted before' ? 0 : 10 * n;
        },
      },
    );
    expect(answer).toBe('counted before');
    expect(seen).toEqual(['counted before']);
    expect(waits).toEqual([0]);
  });

  it('given a stream that keeps changing, when handled, then it gives up after the last attempt with a typed error carrying the conflict', async () => {
    const { steps, calls } = aContendedStream(Number.POSITIVE_INFINITY);
    const { waits, sleep } = recordingSleep();
    const error = await handleCommand(steps, { sleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandContendedError);
    expect(error).toBeInstanceOf(RoutingManagerError);
    expect(error).toMatchObject({ reason: 'contended', stream: 'numbers', attempts: DEFAULT_MAX_ATTEMPTS });
    expect((error as Error).cause).toBeInstanceOf(VersionConflictError);
    expect(calls.filter((call) => call === 'read')).toHaveLength(DEFAULT_MAX_ATTEMPTS);
    expect(waits).toHaveLength(DEFAULT_MAX_ATTEMPTS - 1);
  });

  it('given an append that fails for another reason, when handled, then the error is thrown as it is, with no retry and no wait', async () => {
    const { waits, sleep } = recordingSleep();
    let reads = 0;
    const throttled = new Error('Rate exceeded');
    const outcome = handleCommand(
      {
        read: async () => ++reads,
        decide: (state) => state,
        append: async () => {
          throw throttled;
        },
      },
      { sleep },
    );
    await expect(outcome).rejects.toBe(throttled);
    expect(reads).toBe(1);
    expect(waits).toEqual([]);
  });

  it('given a decision that appends nothing, when handled, then its answer comes back after one read', async () => {
    let reads = 0;
    const answer = await handleCommand({
      read: async () => ++reads,
      decide: () => 'unchanged' as const,
      append: async (decision) => decision,
    });
    expect(answer).toBe('unchanged');
    expect(reads).toBe(1);
  });
});

describe('conflictBackoffMs', () => {
  it('given more conflicts, then the wait doubles from 20 ms up to 500 ms, half of it random', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => conflictBackoffMs(n, () => 1))).toEqual([20, 40, 80, 160, 320, 500]);
    expect([1, 2, 3].map((n) => conflictBackoffMs(n, () => 0))).toEqual([10, 20, 40]);
  });
});

describe('the append contract the loop relies on', () => {
  it('given a version already taken in the routing log, when appended, then the adapter throws a VersionConflictError naming stream and version', async () => {
    const log = new InMemoryRoutingLog();
    const record = aDecisionRecord();
    await log.appendToStream(record.metadata.stream, [record], { expectedVersion: 0 });
    const error = await log
      .appendToStream(record.metadata.stream, [record], { expectedVersion: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ reason: 'version_conflict', stream: record.metadata.stream, version: 1 });
  });
});
