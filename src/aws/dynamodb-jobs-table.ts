/**
 * The Jobs table (`Jobs-<Stage>`, key `jobId`), of which the Routing Manager owns only the routing
 * attributes (docs/EXACTLY_ONCE.md#job-status).
 *
 * Read: one strongly consistent BatchGetItem per 100 jobs: `status`, `routingVersion`, `routingDone`.
 * Write: PartiQL BatchExecuteStatement, ≤ 25 statements per call, each with its own condition and
 * its own result — so a batch of 100 records costs 4 calls instead of 100 UpdateItems, and one
 * statement's failure never fails its neighbours:
 *   - an item that exists: `UPDATE … WHERE jobId = ? AND (routingVersion IS MISSING OR
 *     routingVersion <= ?) AND (status IS MISSING OR status IN [overwritable])`;
 *   - an item that does not: `INSERT` (which refuses an existing key: DuplicateItem).
 * PartiQL's UPDATE never creates an item, and INSERT never overwrites one, so when the item changed
 * between the read and the write the statement flips: a failed UPDATE is retried as an INSERT (the
 * item may have gone), a refused INSERT as an UPDATE (someone created it); an UPDATE whose condition
 * fails on an item known to exist is `superseded`. Statements DynamoDB throttled are resent in the
 * next round. All of it is bounded by `maxRounds`.
 *
 * One call never names a job twice (DynamoDB refuses the whole call): a job's second update of the
 * batch goes in the next wave. Every applied write also sets `routingDone`, the set of versions
 * whose projection completed (src/projections/effect-completion.ts).
 *
 * Size: a statement carries the job's routing attributes only (a few hundred bytes), far below
 * the 400 KB item and the statement limits; the count limit (25) is the binding one.
 */

import { BatchExecuteStatementCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CHUNKS_IN_FLIGHT, chunksOf } from '../batching/chunks.ts';
import { forEachBounded } from '../batching/for-each-bounded.ts';
import { type BatchRounds, DEFAULT_BATCH_ROUNDS, inRounds } from '../batching/in-rounds.ts';
import { errorFacts } from '../observability/error-facts.ts';
import type { JobRouting, JobStatusResult, JobsTable, PlannedJobStatus } from '../ports/jobs-table.ts';
import {
  type JobWrite,
  jobWriteFor,
  OVERWRITABLE_STATUSES,
  ownedAttributes,
  routingOf,
} from '../projections/job-status.ts';
import { batchGetByKey } from './dynamodb-batch-get.ts';
import { UnprocessedItemsError } from './unprocessed-items-error.ts';

/** BatchExecuteStatement's limit: statements per call. */
export const BATCH_STATEMENT_LIMIT = 25;

/** Per-statement error codes that mean "not done, try again" (DynamoDB did nothing). */
export const RETRYABLE_STATEMENT_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
  'RequestLimitExceeded',
  'InternalServerError',
  'TransactionConflict',
]);

export class JobsUnavailableError extends UnprocessedItemsError {
  constructor(unprocessed: number) {
    super('jobs_table_unavailable', 'Jobs item(s)', 'read', unprocessed);
    this.name = 'JobsUnavailableError';
  }
}

type Statement = Exclude<JobWrite, 'superseded'>;

interface Pending {
  readonly index: number;
  readonly update: PlannedJobStatus;
  statement: Statement;
  /**
   * An INSERT of this entry was refused as a duplicate: the item exists, so a failed UPDATE means
   * superseded. Not taken from the read: the item may have gone since.
   */
  exists: boolean;
}

export class DynamoDbJobsTable implements JobsTable {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #rounds: BatchRounds;

  constructor(client: DynamoDBDocumentClient, tableName: string, rounds: Partial<BatchRounds> = {}) {
    this.#client = client;
    this.#tableName = tableName;
    this.#rounds = { ...DEFAULT_BATCH_ROUNDS, ...rounds };
  }

  async read(jobIds: readonly string[]): Promise<Map<string, JobRouting>> {
    const items = await batchGetByKey(
      this.#client,
      {
        tableName: this.#tableName,
        keyName: 'jobId',
        ids: jobIds,
        attributes: ['status', 'routingVersion', 'statusVersion', 'routingDone'],
      },
      this.#rounds,
      (unprocessed) => new JobsUnavailableError(unprocessed),
    );
    return new Map([...items].map(([jobId, item]) => [jobId, routingOf(item)]));
  }

  async write(
    updates: readonly PlannedJobStatus[],
    found: ReadonlyMap<string, JobRouting>,
  ): Promise<JobStatusResult[]> {
    const results: JobStatusResult[] = new Array(updates.length);
    // Versions completed per job, as read and as applied here: each write carries the whole set.
    const done = new Map([...found].map(([jobId, job]) => [jobId, [...job.done]]));
    // A call may not name one key twice (ValidationException for the whole call): the k-th update
    // of each job goes in wave k, waves one after the other, so a job's updates apply in order.
    const waves: Pending[][] = [];
    const perJob = new Map<string, number>();
    updates.forEach((update, index) => {
      const write = jobWriteFor(update, found.get(update.jobId));
      if (write === 'superseded') {
        results[index] = { ok: true, outcome: 'superseded' };
        return;
      }
      const wave = perJob.get(update.jobId) ?? 0;
      perJob.set(update.jobId, wave + 1);
      if (waves.length === wave) waves.push([]);
      waves[wave]?.push({ index, update, statement: write, exists: false });
    });
    for (const wave of waves) await this.#converge(wave, results, done);
    return results;
  }

  /** One wave (one update per job) through its rounds of statements. */
  async #converge(wave: Pending[], results: JobStatusResult[], done: Map<string, number[]>): Promise<void> {
    await inRounds(
      wave,
      this.#rounds,
      (pending) => this.#send(pending, results, done),
      (left) => {
        for (const p of left) results[p.index] = { ok: false, ...unprocessed() };
      },
    );
  }

  /** One round: every pending update once; returns those to send again. */
  async #send(
    pending: readonly Pending[],
    results: JobStatusResult[],
    done: Map<string, number[]>,
  ): Promise<Pending[]> {
    const next: Pending[] = [];
    await forEachBounded(chunksOf(pending, BATCH_STATEMENT_LIMIT), CHUNKS_IN_FLIGHT, async (chunk) => {
      let responses: { Error?: { Code?: string; Message?: string } }[];
      try {
        const output = await this.#client.send(
          new BatchExecuteStatementCommand({
            Statements: chunk.map((p) => this.#statement(p, done.get(p.update.jobId) ?? [])),
          }),
        );
        responses = output.Responses ?? [];
      } catch (error) {
        // The SDK already retried the call: its entries fail (the records are redelivered).
        for (const p of chunk) results[p.index] = { ok: false, ...errorFacts(error) };
        return;
      }
      chunk.forEach((p, i) => {
        const code = responses[i]?.Error?.Code;
        if (code === undefined) {
          results[p.index] = { ok: true, outcome: 'applied' };
          done.set(p.update.jobId, [...(done.get(p.update.jobId) ?? []), p.update.routingVersion]);
        } else if (code === 'ConditionalCheckFailed' && p.statement === 'update')
          // A provider spoke about this dispatch since the read: its status stays, routing moves.
          next.push({ ...p, statement: 'updateRouting' });
        else if (code === 'ConditionalCheckFailed' && p.exists)
          results[p.index] = { ok: true, outcome: 'superseded' };
        else if (code === 'ConditionalCheckFailed') next.push({ ...p, statement: 'insert' });
        else if (code === 'DuplicateItem') next.push({ ...p, statement: 'update', exists: true });
        else if (RETRYABLE_STATEMENT_ERRORS.has(code)) next.push(p);
        else results[p.index] = { ok: false, code, message: `Jobs statement refused: ${code}` };
      });
    });
    return next;
  }

  #statement({ update, statement }: Pending, done: readonly number[]) {
    const withStatus = statement !== 'updateRouting';
    const owned = Object.entries(ownedAttributes(update, done, withStatus));
    if (statement === 'insert') {
      const present = owned.filter(([, value]) => value !== null);
      return {
        Statement: `INSERT INTO "${this.#tableName}" VALUE {'jobId': ?, ${present.map(([name]) => `'${name}': ?`).join(', ')}}`,
        Parameters: [update.jobId, ...present.map(([, value]) => value)],
      };
    }
    // routingDone grows by this version in place: another shard may have added its own version
    // since our read, and rewriting the set as read would drop that version's completion mark.
    const set = owned.filter(([name, value]) => value !== null && name !== 'routingDone');
    const remove = owned.filter(([, value]) => value === null);
    return {
      Statement:
        `UPDATE "${this.#tableName}"` +
        set.map(([name]) => ` SET "${name}" = ?`).join('') +
        ` SET "routingDone" = set_add("routingDone", ?)` +
        remove.map(([name]) => ` REMOVE "${name}"`).join('') +
        ` WHERE "jobId" = ? AND ("routingVersion" IS MISSING OR "routingVersion" <= ?)` +
        // The status only over its own, or over a provider's status about an older dispatch
        // (statusVersion; without it the item's routing version, or 1): job-status.ts statusAllows.
        (withStatus
          ? ` AND ("status" IS MISSING OR "status" IN [${OVERWRITABLE_STATUSES.map(() => '?').join(', ')}]` +
            ` OR "statusVersion" < ?` +
            ` OR ("statusVersion" IS MISSING AND "routingVersion" < ?)` +
            (update.routingVersion > 1
              ? ` OR ("statusVersion" IS MISSING AND "routingVersion" IS MISSING)`
              : '') +
            ')'
          : ''),
      Parameters: [
        ...set.map(([, value]) => value),
        new Set([update.routingVersion]),
        update.jobId,
        update.routingVersion,
        ...(withStatus ? [...OVERWRITABLE_STATUSES, update.routingVersion, update.routingVersion] : []),
      ],
    };
  }
}

function unprocessed() {
  return { code: 'JobsUnavailable', message: 'Jobs statement still throttled after retries' };
}
