import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbEffectMarkers,
  EffectMarkersUnavailableError,
} from '../../src/aws/dynamodb-effect-markers.ts';
import { DynamoDbJobsTable, JobsUnavailableError } from '../../src/aws/dynamodb-jobs-table.ts';
import { EventBridgeAnnouncer } from '../../src/aws/eventbridge-announcer.ts';
import { deduplicationIdOf, SqsProviderQueues } from '../../src/aws/sqs-provider-queues.ts';
import type { EffectMarker } from '../../src/ports/effect-markers.ts';
import { announceDecisions } from '../../src/projections/announce.ts';
import { dispatchToProviderQueues } from '../../src/projections/dispatch.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { QUEUE_URLS } from '../support/projector-fakes.ts';
import { aNoRouteRecord, aReplayOf, aRoutedRecord } from '../support/records.ts';

const sqsMock = mockClient(SQSClient);
const eventsMock = mockClient(EventBridgeClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const noBackoff = { extraAttempts: 2, backoffMs: () => 0 };

beforeEach(() => {
  sqsMock.reset();
  eventsMock.reset();
  ddbMock.reset();
});

const dispatches = (n: number, provider = 'fal') =>
  Array.from(
    { length: n },
    () =>
      planEffects(aRoutedRecord({ provider })).dispatch as NonNullable<
        ReturnType<typeof planEffects>['dispatch']
      >,
  );

describe('SqsProviderQueues with dispatchToProviderQueues', () => {
  const sender = () => new SqsProviderQueues(new SQSClient({ region: 'us-east-1' }));

  it('given 23 dispatches to two queues, then they go in calls of at most 10 per queue with the dispatch id attached', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const planned = [...dispatches(13, 'fal'), ...dispatches(10, 'replicate')];
    const results = await dispatchToProviderQueues(planned, { sender: sender(), queueUrls: QUEUE_URLS });

    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.QueueUrl, c.Entries?.length])).toEqual([
      [QUEUE_URLS.fal, 10],
      [QUEUE_URLS.fal, 3],
      [QUEUE_URLS.replicate, 10],
    ]);
    const entry = calls[0]?.Entries?.[0];
    expect(entry?.MessageAttributes?.dispatchId?.StringValue).toBe(planned[0]?.dispatchId);
    expect(JSON.parse(entry?.MessageBody as string).dispatchId).toBe(planned[0]?.dispatchId);
    expect(entry?.MessageGroupId).toBeUndefined();
    expect([...results.values()].every((r) => r.ok)).toBe(true);
  });

  it('given a FIFO queue, then the dispatch id is the deduplication id and the jobId the group', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({});
    const [planned] = dispatches(1);
    await dispatchToProviderQueues([planned as NonNullable<typeof planned>], {
      sender: sender(),
      queueUrls: { fal: `${QUEUE_URLS.fal}.fifo` },
    });
    const entry = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      MessageDeduplicationId: planned?.dispatchId,
      MessageGroupId: planned?.jobId,
    });
  });

  it('given a dispatch id longer than SQS allows, then its deduplication id is a stable hash', () => {
    const long = `${'j'.repeat(128)}:v1`;
    expect(deduplicationIdOf(long)).toHaveLength(64);
    expect(deduplicationIdOf(long)).toBe(deduplicationIdOf(long));
  });

  it('given an entry refused by SQS as retryable, then only it is resent and succeeds', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: 'm1', Code: 'InternalError', SenderFault: false }] })
      .resolves({});
    const planned = dispatches(3);
    const results = await dispatchToProviderQueues(planned, {
      sender: sender(),
      queueUrls: QUEUE_URLS,
      retry: noBackoff,
    });
    const calls = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.Id));
    expect(calls).toEqual([['m0', 'm1', 'm2'], ['m1']]);
    expect([...results.values()].every((r) => r.ok)).toBe(true);
  });

  it('given a sender fault, then the entry fails without a resend', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: 'm0', Code: 'InvalidParameterValue', Message: 'too big', SenderFault: true }],
    });
    const [planned] = dispatches(1);
    const results = await dispatchToProviderQueues([planned as NonNullable<typeof planned>], {
      sender: sender(),
      queueUrls: QUEUE_URLS,
      retry: noBackoff,
    });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(results.get(planned?.dispatchId as string)).toEqual({
      ok: false,
      code: 'InvalidParameterValue',
      message: 'too big',
      retryable: false,
    });
  });

  it('given the call itself throws, then every entry of that call fails', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('socket hang up'));
    const results = await dispatchToProviderQueues(dispatches(2), {
      sender: sender(),
      queueUrls: QUEUE_URLS,
    });
    expect([...results.values()].map((r) => r.ok)).toEqual([false, false]);
  });
});

describe('EventBridgeAnnouncer with announceDecisions', () => {
  const publisher = () =>
    new EventBridgeAnnouncer(new EventBridgeClient({ region: 'us-east-1' }), 'bus-test');
  const announcements = (n: number) =>
    Array.from({ length: n }, () => planEffects(aNoRouteRecord()).announcement);

  it('given 12 announcements, then they go in two PutEvents calls on the configured bus with source routing.manager', async () => {
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const results = await announceDecisions(announcements(12), { publisher: publisher() });
    const calls = eventsMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.map((c) => c.length)).toEqual([10, 2]);
    expect(calls[0]?.[0]).toMatchObject({
      EventBusName: 'bus-test',
      Source: 'routing.manager',
      DetailType: 'video.job.rejected',
    });
    expect([...results.values()].every((r) => r.ok)).toBe(true);
  });

  it('given FailedEntryCount on the first call, then only the failed entries are resent and succeed', async () => {
    eventsMock
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const planned = announcements(2);
    const results = await announceDecisions(planned, { publisher: publisher(), retry: noBackoff });
    const calls = eventsMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(calls).toEqual([2, 1]);
    expect([...results.values()].every((r) => r.ok)).toBe(true);
  });

  it('given an entry that keeps failing, then it is tried three times in all and reported failed alone', async () => {
    eventsMock.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, i) =>
        i === input.Entries.length - 1
          ? { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }
          : { EventId: `e${i}` },
      ),
    }));
    const planned = announcements(2);
    const results = await announceDecisions(planned, { publisher: publisher(), retry: noBackoff });
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(results.get(planned[0]?.detail.announcementId as string)).toEqual({ ok: true });
    expect(results.get(planned[1]?.detail.announcementId as string)).toMatchObject({
      ok: false,
      code: 'InternalFailure',
    });
  });

  it('given a permanent refusal, then the entry fails without a resend', async () => {
    eventsMock
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail' }] });
    const planned = announcements(1);
    const results = await announceDecisions(planned, { publisher: publisher(), retry: noBackoff });
    expect(results.get(planned[0]?.detail.announcementId as string)).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('given a response without a result for a failed entry, then that entry is resent', async () => {
    eventsMock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [] })
      .resolves({ FailedEntryCount: 0 });
    const results = await announceDecisions(announcements(1), { publisher: publisher(), retry: noBackoff });
    expect([...results.values()]).toEqual([{ ok: true }]);
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it('given the default backoff, then a resend waits briefly and still succeeds', async () => {
    eventsMock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
      .resolves({ FailedEntryCount: 0 });
    const results = await announceDecisions(announcements(1), { publisher: publisher() });
    expect([...results.values()]).toEqual([{ ok: true }]);
  });
});

describe('DynamoDbJobsTable', () => {
  const jobs = () =>
    new DynamoDbJobsTable(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      'Jobs-test',
      {
        backoffMs: () => 0,
      },
    );
  const statusOf = (record: Parameters<typeof planEffects>[0]) =>
    planEffects(record).jobStatus as NonNullable<ReturnType<typeof planEffects>['jobStatus']>;
  const existing = (...ids: string[]) =>
    new Map(
      ids.map(
        (id) => [id, { status: 'SUBMITTED', routingVersion: null, statusVersion: null, done: [] }] as const,
      ),
    );
  const statements = () =>
    ddbMock.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Statements ?? []);
  const errorOf = (Code: string) => ({ Error: { Code: Code as 'ConditionalCheckFailed', Message: Code } });

  it('given a routed projection of an existing job, then one UPDATE sets the owned attributes, removes reason and guards version and status', async () => {
    ddbMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    const update = statusOf(aRoutedRecord({ provider: 'fal' }));

    expect(await jobs().write([update], existing(update.jobId))).toEqual([{ ok: true, outcome: 'applied' }]);

    const [statement] = statements()[0] ?? [];
    expect(statement?.Statement).toBe(
      'UPDATE "Jobs-test" SET "status" = ? SET "provider" = ? SET "model" = ? SET "queue" = ? SET "routedAt" = ? SET "routingVersion" = ? SET "routingDone" = set_add("routingDone", ?) REMOVE "reason"' +
        ' WHERE "jobId" = ? AND ("routingVersion" IS MISSING OR "routingVersion" <= ?) AND ("status" IS MISSING OR "status" IN [?, ?, ?, ?, ?]' +
        ' OR "statusVersion" < ? OR ("statusVersion" IS MISSING AND "routingVersion" < ?))',
    );
    expect(statement?.Parameters).toEqual([
      'ROUTED',
      'fal',
      update.model,
      update.queue,
      update.routedAt,
      1,
      new Set([1]),
      update.jobId,
      1,
      'SUBMITTED',
      'PENDING',
      'ROUTED',
      'REJECTED',
      'HELD',
      1,
      1,
    ]);
  });

  it('given a rejection of a job without an item, then one INSERT writes reason and leaves provider, model and queue out', async () => {
    ddbMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    const update = statusOf(aNoRouteRecord());

    expect(await jobs().write([update], new Map())).toEqual([{ ok: true, outcome: 'applied' }]);

    expect(statements()[0]?.[0]?.Statement).toBe(
      `INSERT INTO "Jobs-test" VALUE {'jobId': ?, 'status': ?, 'reason': ?, 'routedAt': ?, 'routingVersion': ?, 'routingDone': ?}`,
    );
  });

  it('given an item a provider advanced (RUNNING) for this dispatch, then only the routing attributes are written: its status stays', async () => {
    ddbMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    const update = statusOf(aRoutedRecord());
    const found = new Map([
      [update.jobId, { status: 'RUNNING', routingVersion: 1, statusVersion: 1, done: [] }],
    ]);

    expect(await jobs().write([update], found)).toEqual([{ ok: true, outcome: 'applied' }]);
    const [statement] = statements()[0] ?? [];
    expect(statement?.Statement).not.toContain('"status"');
    expect(statement?.Statement).toContain(
      'WHERE "jobId" = ? AND ("routingVersion" IS MISSING OR "routingVersion" <= ?)',
    );
  });

  it('given an item whose routing version is newer, then nothing is written: superseded', async () => {
    const update = statusOf(aRoutedRecord());
    const found = new Map([
      [update.jobId, { status: 'ROUTED', routingVersion: 2, statusVersion: null, done: [2] }],
    ]);

    expect(await jobs().write([update], found)).toEqual([{ ok: true, outcome: 'superseded' }]);
    expect(statements()).toEqual([]);
  });

  it('given a status update refused because a provider spoke meanwhile, then the routing attributes are written alone', async () => {
    ddbMock
      .on(BatchExecuteStatementCommand)
      .resolvesOnce({ Responses: [errorOf('ConditionalCheckFailed')] })
      .resolves({ Responses: [{}] });
    const update = statusOf(aRoutedRecord());

    expect(await jobs().write([update], existing(update.jobId))).toEqual([{ ok: true, outcome: 'applied' }]);
    const [first, second] = statements().map((call) => call[0]?.Statement ?? '');
    expect(first).toContain('"statusVersion" < ?');
    expect(second).not.toContain('"status"');
  });

  it('given 60 updates, then they go in calls of at most 25 statements, results in input order', async () => {
    ddbMock
      .on(BatchExecuteStatementCommand)
      .callsFake((input: { Statements: unknown[] }) => ({ Responses: input.Statements.map(() => ({})) }));
    const updates = Array.from({ length: 60 }, () => statusOf(aRoutedRecord()));

    const results = await jobs().write(updates, new Map());

    expect(statements().map((call) => call.length)).toEqual([25, 25, 10]);
    expect(results).toHaveLength(60);
    expect(results.every((r) => r.ok && r.outcome === 'applied')).toBe(true);
  });

  it('given two updates of one job (a decision and its replay), then they go in separate calls, in order, the second adding its own version to the done set', async () => {
    ddbMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    const decision = aRoutedRecord();
    const first = statusOf(decision);
    const replay = statusOf(aReplayOf(decision, 2));

    const results = await jobs().write([first, replay], existing(first.jobId));

    expect(results).toEqual([
      { ok: true, outcome: 'applied' },
      { ok: true, outcome: 'applied' },
    ]);
    const calls = statements();
    expect(calls.map((call) => call.length)).toEqual([1, 1]);
    expect(calls[1]?.[0]?.Statement).toContain('SET "routingDone" = set_add("routingDone", ?)');
    expect(calls[1]?.[0]?.Parameters).toContainEqual(new Set([2]));
  });

  it('given an item changed since the read, then a failed UPDATE is retried without the status, then as an INSERT; a refused INSERT as an UPDATE; and an UPDATE of routing failing on an item known to exist is superseded', async () => {
    ddbMock
      .on(BatchExecuteStatementCommand)
      .resolvesOnce({ Responses: [errorOf('ConditionalCheckFailed'), errorOf('DuplicateItem')] })
      .resolvesOnce({ Responses: [errorOf('ConditionalCheckFailed'), errorOf('ConditionalCheckFailed')] })
      .resolves({ Responses: [{}, errorOf('ConditionalCheckFailed')] });
    const gone = statusOf(aRoutedRecord());
    const created = statusOf(aRoutedRecord());

    const results = await jobs().write([gone, created], existing(gone.jobId));

    expect(results).toEqual([
      { ok: true, outcome: 'applied' },
      { ok: true, outcome: 'superseded' },
    ]);
    expect(statements().map((call) => call.map((s) => s.Statement?.split(' ')[0]))).toEqual([
      ['UPDATE', 'INSERT'],
      ['UPDATE', 'UPDATE'],
      ['INSERT', 'UPDATE'],
    ]);
  });

  it('given one statement throttled and one invalid, then the throttled one is resent alone, the invalid one fails alone and the third applies', async () => {
    ddbMock
      .on(BatchExecuteStatementCommand)
      .resolvesOnce({ Responses: [errorOf('ThrottlingError'), errorOf('ValidationError'), {}] })
      .resolves({ Responses: [{}] });
    const updates = [statusOf(aRoutedRecord()), statusOf(aRoutedRecord()), statusOf(aRoutedRecord())];

    const results = await jobs().write(updates, new Map());

    expect(results).toEqual([
      { ok: true, outcome: 'applied' },
      { ok: false, code: 'ValidationError', message: 'Jobs statement refused: ValidationError' },
      { ok: true, outcome: 'applied' },
    ]);
    expect(statements().map((call) => call.length)).toEqual([3, 1]);
  });

  it('given a statement throttled in every round, then it fails JobsUnavailable after the last round', async () => {
    ddbMock.on(BatchExecuteStatementCommand).resolves({ Responses: [errorOf('ThrottlingError')] });

    const results = await jobs().write([statusOf(aRoutedRecord())], new Map());

    expect(results).toEqual([
      { ok: false, code: 'JobsUnavailable', message: 'Jobs statement still throttled after retries' },
    ]);
    expect(statements()).toHaveLength(4);
  });

  it('given a call refused whole (after the SDK retries), then only its statements fail, under the error name', async () => {
    ddbMock
      .on(BatchExecuteStatementCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }))
      .callsFake((input: { Statements: unknown[] }) => ({ Responses: input.Statements.map(() => ({})) }));
    const updates = Array.from({ length: 26 }, () => statusOf(aRoutedRecord()));

    const results = await jobs().write(updates, new Map());

    expect(results.filter((r) => !r.ok)).toHaveLength(25);
    expect(results[0]).toEqual({
      ok: false,
      code: 'ProvisionedThroughputExceededException',
      message: 'slow down',
    });
    expect(results[25]).toEqual({ ok: true, outcome: 'applied' });
  });

  it('given keys left unprocessed in every round, when reading, then it throws JobsUnavailableError', async () => {
    ddbMock.on(BatchGetCommand).resolves({ UnprocessedKeys: { 'Jobs-test': { Keys: [{ jobId: 'a' }] } } });

    await expect(jobs().read(['a'])).rejects.toBeInstanceOf(JobsUnavailableError);
  });
});

describe('DynamoDbEffectMarkers', () => {
  const now = () => new Date('2026-11-25T00:00:00.000Z');
  const markers = (options: Partial<ConstructorParameters<typeof DynamoDbEffectMarkers>[2]> = {}) =>
    new DynamoDbEffectMarkers(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      'Effects-test',
      {
        ttlDays: 7,
        now,
        backoffMs: () => 0,
        ...options,
      },
    );
  const aMarker = (effectId: string): EffectMarker => ({
    effectId,
    dispatched: true,
    dispatchedAt: '2026-11-25T00:00:00.000Z',
    announced: false,
    announcedAt: null,
    statusProjected: false,
    statusProjectedAt: null,
  });

  it('given 150 ids, then it reads them strongly consistently in calls of at most 100 and retries unprocessed keys', async () => {
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'Effects-test': [{ effectId: 'e0', dispatched: true, announced: true }] },
        UnprocessedKeys: { 'Effects-test': { Keys: [{ effectId: 'e1' }] } },
      })
      .resolves({ Responses: { 'Effects-test': [{ effectId: 'e1', dispatched: true }] } });
    const ids = Array.from({ length: 150 }, (_, i) => `e${i}`);
    const found = await markers().read(ids);
    const calls = ddbMock
      .commandCalls(BatchGetCommand)
      .map((c) => c.args[0].input.RequestItems?.['Effects-test']);
    expect(calls.map((c) => c?.Keys?.length)).toEqual([100, 50, 1]);
    expect(calls.every((c) => c?.ConsistentRead === true)).toBe(true);
    expect(found.get('e0')).toMatchObject({
      dispatched: true,
      announced: true,
      statusProjected: false,
      dispatchedAt: null,
    });
    expect(found.has('e1')).toBe(true);
  });

  it('given keys that stay unprocessed, then reading fails with a typed error', async () => {
    ddbMock
      .on(BatchGetCommand)
      .resolves({ UnprocessedKeys: { 'Effects-test': { Keys: [{ effectId: 'e0' }] } } });
    await expect(markers({ maxRounds: 2 }).read(['e0'])).rejects.toBeInstanceOf(
      EffectMarkersUnavailableError,
    );
  });

  it('given 30 markers, then it writes them in calls of at most 25 with a 7-day expiresAt and retries unprocessed items', async () => {
    ddbMock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { 'Effects-test': [{ PutRequest: { Item: { effectId: 'm0' } } }] } })
      .resolves({});
    await markers().write(Array.from({ length: 30 }, (_, i) => aMarker(`m${i}`)));
    const calls = ddbMock
      .commandCalls(BatchWriteCommand)
      .map((c) => c.args[0].input.RequestItems?.['Effects-test']);
    expect(calls.map((c) => c?.length).sort()).toEqual([1, 25, 5]);
    expect(calls[0]?.[0]?.PutRequest?.Item).toMatchObject({
      effectId: 'm0',
      expiresAt: Date.parse('2026-12-02T00:00:00.000Z') / 1000,
    });
  });

  it('given items that stay unprocessed, then writing fails with a typed error', async () => {
    ddbMock
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { 'Effects-test': [{ PutRequest: { Item: { effectId: 'm0' } } }] } });
    await expect(markers({ maxRounds: 2 }).write([aMarker('m0')])).rejects.toMatchObject({
      name: 'EffectMarkersUnavailableError',
      operation: 'write',
      unprocessed: 1,
    });
  });

  it('given the default retry settings, then an unprocessed key is retried after a short pause', async () => {
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({ UnprocessedKeys: { 'Effects-test': { Keys: [{ effectId: 'e0' }] } } })
      .resolves({});
    const defaults = new DynamoDbEffectMarkers(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      'Effects-test',
      { ttlDays: 7, now },
    );
    expect((await defaults.read(['e0'])).size).toBe(0);
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(2);
  });
});
