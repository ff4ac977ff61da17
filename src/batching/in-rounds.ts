/**
 * Bounded rounds for what a batch call leaves unprocessed (DynamoDB's UnprocessedKeys and
 * UnprocessedItems, a transaction's unfinished statements): resend the rest after a pause, at most
 * `maxRounds` times, then hand what is left to the caller. One loop for every such API.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface BatchRounds {
  /** Rounds for unprocessed keys or statements, and the pause before round n (1-based). */
  readonly maxRounds: number;
  readonly backoffMs: (round: number) => number;
}

export const DEFAULT_BATCH_ROUNDS: BatchRounds = {
  maxRounds: 4,
  backoffMs: (round) => 25 * 2 ** (round - 1),
};

/**
 * Sends `items`, then what each call left unprocessed, in at most `rounds.maxRounds` rounds with a
 * pause before each resend; `exhausted` gets what is still left after the last round.
 */
export async function inRounds<T>(
  items: readonly T[],
  rounds: BatchRounds,
  send: (items: readonly T[]) => Promise<readonly T[]>,
  exhausted: (left: readonly T[]) => void,
): Promise<void> {
  let left = items;
  for (let round = 0; left.length > 0; round++) {
    if (round >= rounds.maxRounds) return exhausted(left);
    if (round > 0) await delay(rounds.backoffMs(round));
    left = await send(left);
  }
}
