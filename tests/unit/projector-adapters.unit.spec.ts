import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbEffectMarkers,
  EffectMarkersUnavailableError,
} from '../../src/aws/dynamodb-effect-markers.ts';
import { DynamoDbJobsTable } from '../../src/aws/dynamodb-jobs-table.ts';
import { EventBridgeAnnouncer } from '../../src/aws/eventbridge-announcer.ts';
import { deduplicationIdOf, SqsProviderQueues } from '../../src/aws/sqs-provider-queues.ts';
import type { EffectMarker } from '../../src/ports/effect-markers.ts';
import { announceDecisions } from '../../src/projections/announce.ts';
import { dispatchToProviderQueues } from '../../src/projections/dispatch.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { QUEUE_URLS } from '../support/projector-fakes.ts';
import { aNoRouteRecord, aRoutedRecord } from '../support/records.ts';

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
    );

  it('given a routed projection, then it sets the owned attributes, removes reason and guards version and status', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    const plan = planEffects(aRoutedRecord({ provider: 'fal' }));
    expect(await jobs().projectStatus(plan.jobStatus as NonNullable<typeof plan.jobStatus>)).toBe('applied');
    const input = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ jobId: plan.jobId });
    expect(input?.UpdateExpression).toBe(
      'SET #status = :status, #routedAt = :routedAt, #routingVersion = :version, #provider = :provider, #model = :model, #queue = :queue REMOVE #reason',
    );
    expect(input?.ConditionExpression).toBe(
      '(attribute_not_exists(#routingVersion) OR #routingVersion <= :version) AND (attribute_not_exists(#status) OR #status IN (:overwritable0, :overwritable1, :overwritable2, :overwritable3))',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':status': 'ROUTED',
      ':version': 1,
      ':overwritable0': 'SUBMITTED',
    });
  });

  it('given a rejection, then it sets reason and removes provider, model and queue', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    const plan = planEffects(aNoRouteRecord());
    await jobs().projectStatus(plan.jobStatus as NonNullable<typeof plan.jobStatus>);
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input.UpdateExpression).toMatch(
      /SET .*#reason = :reason REMOVE #provider, #model, #queue$/,
    );
  });

  it('given the condition fails, then the projection is superseded, not failed', async () => {
    ddbMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    const plan = planEffects(aRoutedRecord());
    expect(await jobs().projectStatus(plan.jobStatus as NonNullable<typeof plan.jobStatus>)).toBe(
      'superseded',
    );
  });

  it('given any other error, then it is thrown', async () => {
    ddbMock.on(UpdateCommand).rejects(new Error('throttled'));
    const plan = planEffects(aRoutedRecord());
    await expect(jobs().projectStatus(plan.jobStatus as NonNullable<typeof plan.jobStatus>)).rejects.toThrow(
      'throttled',
    );
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
