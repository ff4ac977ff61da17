/**
 * The one shape of every command handler that appends to the routing log (Emmett's
 * `handleCommand`): read the stream → decide (pure) → append at the expected version. When another
 * writer took that version first, the append throws VersionConflictError and the whole cycle runs
 * again on a fresh read, after a short backoff; after `maxAttempts` conflicts the command fails
 * with CommandContendedError (nothing appended, safe to run again). Any other error is not a race
 * and is never retried here (the SDK has already retried throttling and network errors).
 *
 * Each command supplies the three steps; this module owns the loop, so no command has its own, and
 * no command turns a store's answer into a conflict: every adapter's `appendToStream` — the routing
 * log's, the rules log's, the health store's — throws VersionConflictError itself.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CommandContendedError, VersionConflictError } from '../errors.ts';

export interface CommandSteps<State, Decision, Result> {
  /**
   * Everything the decision needs: the stream as stored now, and any other input (I/O). After a
   * conflict it gets that conflict, whose `existing` record may spare a read.
   */
  readonly read: (conflict?: VersionConflictError) => Promise<State>;
  /** Pure: no I/O, no clock. What to append, if anything, and what to answer. */
  readonly decide: (state: State) => Decision;
  /**
   * Appends what was decided (`appendToStream` at the version read) and returns the answer. The
   * adapter throws VersionConflictError when a version was taken meanwhile.
   */
  readonly append: (decision: Decision, state: State) => Promise<Result>;
}

export interface ConflictRetry {
  /** Read-decide-append cycles before giving up (default DEFAULT_MAX_ATTEMPTS). */
  readonly maxAttempts?: number;
  /**
   * The wait after the n-th conflict, which is given (default conflictBackoffMs): a command whose
   * conflict only tells it what was recorded before (a redelivery, not a race) waits 0.
   */
  readonly backoffMs?: (conflicts: number, conflict: VersionConflictError) => number;
  /** Waits (default node:timers/promises' setTimeout; tests pass one that records). */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** Cycles a command gets before a stream that keeps changing makes it give up. */
export const DEFAULT_MAX_ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 500;

/**
 * Exponential (20, 40, 80, … ms, at most 500), half of it random: writers that collided once do
 * not collide again in lockstep. Random, not derived: a wait is not an id and is never recorded.
 */
export function conflictBackoffMs(conflicts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (conflicts - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export async function handleCommand<State, Decision, Result>(
  steps: CommandSteps<State, Decision, Result>,
  retry: ConflictRetry = {},
): Promise<Result> {
  const maxAttempts = retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const backoffMs = retry.backoffMs ?? ((conflicts: number) => conflictBackoffMs(conflicts));
  const sleep = retry.sleep ?? delay;
  let conflict: VersionConflictError | undefined;
  for (let attempt = 1; ; attempt++) {
    const state = await steps.read(conflict);
    const decision = steps.decide(state);
    try {
      return await steps.append(decision, state);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (attempt >= maxAttempts) throw new CommandContendedError(error, attempt);
      conflict = error;
      await sleep(backoffMs(attempt, error));
    }
  }
}
