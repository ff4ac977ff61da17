/**
 * The success tally: how a breaker's successes are counted without a commit on its item (pure: no
 * I/O, no clock).
 *
 * Every job reports one attempt and almost all of them succeed, so a read-modify-write of the one
 * breaker item per success serialised the whole health path (≈ 55 commits/s per breaker). A success
 * instead adds 1 to one of SUCCESS_SHARDS counter items of its event-time bucket, picked by its
 * dedupe key: `tally#<breakerKey>#<bucketStart>#<shard>`. The add is unconditional (an `ADD` is
 * evaluated on the server: writers of one item never conflict or retry, they queue on its
 * partition), written in one transaction with the signal's dedupe marker, so a duplicate adds
 * nothing. A failure's commit reads the buckets it needs (the sum of their shards) and folds them
 * into the breaker (`SuccessesTallied`, src/provider-health/breaker.ts).
 */
import { fnv1a } from '../log/fnv1a.ts';

/**
 * Counter items per breaker and bucket. A transactional write is 2 WCU on a ≤ 1 KB item and an item
 * takes ≤ 1,000 WCU/s, so one bucket takes 32 × 500 = 16,000 successes/s per breaker (docs/SCALE.md).
 */
export const SUCCESS_SHARDS = 32;

/**
 * The shard a success is added to: spread by its dedupe key. Exactly-once comes from the marker
 * written in the same transaction, not from the shard, so a transaction of many successes adds them
 * all to the shard of its first one (one counter write per breaker and bucket, not per signal).
 */
export const tallyShard = (signalId: string): number => fnv1a(signalId) % SUCCESS_SHARDS;

/** The counter item of a breaker's bucket and shard. */
export const tallyItemKey = (key: string, bucketStart: number, shard: number): string =>
  `tally#${key}#${bucketStart}#${shard}`;
