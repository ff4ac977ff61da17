import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type AbandonedBatch,
  DynamoDbStreamPoller,
  StreamDrainTimeoutError,
} from '../../src/local/stream-poller.ts';

const streamsMock = mockClient(DynamoDBStreamsClient);
const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/RoutingLog-t/stream/2026';

/** A fake one-shard stream whose iterators are positions in `records`. */
function givenStream(records: StreamRecord[], shards = [{ ShardId: 'shard-1', SequenceNumberRange: {} }]) {
  streamsMock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: shards } });
  streamsMock.on(GetShardIteratorCommand).callsFake((input) => {
    if (input.ShardIteratorType === 'TRIM_HORIZON') return { ShardIterator: '0' };
    const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === input.SequenceNumber);
    return { ShardIterator: String(index + 1) };
  });
  streamsMock.on(GetRecordsCommand).callsFake((input) => {
    const from = Number(input.ShardIterator);
    const page = records.slice(from, from + (input.Limit ?? 1000));
    return { Records: page, NextShardIterator: String(from + page.length) };
  });
}

const aRecord = (n: number, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): StreamRecord => ({
  eventID: `id-${n}`,
  eventName,
  awsRegion: 'ddblocal',
  dynamodb: {
    ApproximateCreationDateTime: new Date('2026-11-25T10:00:00Z'),
    Keys: { stream: { S: `job#${n}` }, version: { N: '1' } },
    NewImage: { stream: { S: `job#${n}` }, version: { N: '1' } },
    SequenceNumber: String(100 + n),
    SizeBytes: 10,
    StreamViewType: 'NEW_IMAGE',
  },
});

const sequences = (event: DynamoDBStreamEvent) => event.Records.map((r) => r.dynamodb?.SequenceNumber);

beforeEach(() => streamsMock.reset());

describe('DynamoDbStreamPoller', () => {
  const poller = (options: Partial<ConstructorParameters<typeof DynamoDbStreamPoller>[0]> = {}) =>
    new DynamoDbStreamPoller({
      streamArn: STREAM_ARN,
      client: new DynamoDBStreamsClient({ region: 'us-east-1' }),
      ...options,
    });

  it('given stream records, then it delivers Lambda-shaped batches of batchSize, INSERT only', async () => {
    givenStream([aRecord(1), aRecord(2, 'MODIFY'), aRecord(3), aRecord(4)]);
    const seen: DynamoDBStreamEvent[] = [];
    const summary = await poller({ batchSize: 3 }).drain(async (event) => {
      seen.push(event);
      return { batchItemFailures: [] };
    });
    expect(seen.map(sequences)).toEqual([['101', '103'], ['104']]);
    expect(seen[0]?.Records[0]).toEqual({
      eventID: 'id-1',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-11-25T10:00:00Z') / 1000,
        Keys: { stream: { S: 'job#1' }, version: { N: '1' } },
        NewImage: { stream: { S: 'job#1' }, version: { N: '1' } },
        SequenceNumber: '101',
        SizeBytes: 10,
        StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: STREAM_ARN,
    });
    expect(summary).toEqual({ batches: 2, delivered: 3, failed: 0, abandoned: [] });
  });

  it('given a reported failure, then it checkpoints before the lowest failed record and redelivers from there', async () => {
    givenStream([aRecord(1), aRecord(2), aRecord(3)]);
    const seen: (string | undefined)[][] = [];
    await poller().drain(async (event) => {
      seen.push(sequences(event));
      return seen.length === 1
        ? { batchItemFailures: [{ itemIdentifier: '103' }, { itemIdentifier: '102' }] }
        : { batchItemFailures: [] };
    });
    expect(seen).toEqual([
      ['101', '102', '103'],
      ['102', '103'],
    ]);
  });

  it('given a handler that throws or names an unknown item, then the whole batch is redelivered', async () => {
    givenStream([aRecord(1), aRecord(2)]);
    let calls = 0;
    const summary = await poller().drain(async () => {
      calls++;
      if (calls === 1) throw new Error('crash');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'nope' }] };
      return undefined;
    });
    expect(calls).toBe(3);
    expect(summary).toMatchObject({ delivered: 6, failed: 4 });
  });

  it('given a record that always fails, then after maxRetryAttempts the batch goes to onFailure and is skipped', async () => {
    givenStream([aRecord(1), aRecord(2)]);
    const abandoned: AbandonedBatch[] = [];
    const summary = await poller({ maxRetryAttempts: 2, onFailure: (b) => void abandoned.push(b) }).drain(
      async (event) => ({
        batchItemFailures: event.Records.slice(-1).map((r) => ({
          itemIdentifier: r.dynamodb?.SequenceNumber as string,
        })),
      }),
    );
    expect(abandoned).toEqual([
      {
        shardId: 'shard-1',
        startSequenceNumber: '102',
        endSequenceNumber: '102',
        batchSize: 1,
        attempts: 3,
        approximateArrivalOfFirstRecord: '2026-11-25T10:00:00.000Z',
        approximateArrivalOfLastRecord: '2026-11-25T10:00:00.000Z',
      },
    ]);
    expect(summary.abandoned).toEqual(abandoned);
  });

  it('given a batch of filtered records only, then it is checkpointed past without a delivery', async () => {
    givenStream([aRecord(1, 'MODIFY')]);
    let calls = 0;
    const p = poller();
    expect(await p.deliverNext(async () => void calls++)).toEqual({
      shardId: 'shard-1',
      delivered: 0,
      failed: 0,
      abandoned: null,
    });
    expect(await p.deliverNext(async () => void calls++)).toBeNull();
    expect(calls).toBe(0);
  });

  it('given only filtered records, when drained, then they are checkpointed past and no batch is counted', async () => {
    givenStream([aRecord(1, 'MODIFY'), aRecord(2, 'MODIFY')]);
    let calls = 0;
    const summary = await poller().drain(async () => {
      calls++;
      return undefined;
    });
    expect(summary).toEqual({ batches: 0, delivered: 0, failed: 0, abandoned: [] });
    expect(calls).toBe(0);
  });

  it('given a stream that has no shard yet, when drained, then it finishes with nothing delivered', async () => {
    streamsMock.on(DescribeStreamCommand).resolves({ StreamDescription: {} });
    const summary = await poller().drain(async () => undefined);
    expect(summary).toEqual({ batches: 0, delivered: 0, failed: 0, abandoned: [] });
    expect(streamsMock.commandCalls(GetShardIteratorCommand)).toHaveLength(0);
  });

  it('given GetRecords pages without a Records field on a closed shard, when polled, then the shard is finished and never read again', async () => {
    streamsMock.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        Shards: [{ ShardId: 'closed', SequenceNumberRange: { EndingSequenceNumber: '9' } }],
      },
    });
    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    streamsMock.on(GetRecordsCommand).resolves({});
    const p = poller();

    expect(await p.deliverNext(async () => undefined)).toBeNull();
    expect(await p.deliverNext(async () => undefined)).toBeNull();
    expect(streamsMock.commandCalls(GetRecordsCommand)).toHaveLength(1);
  });

  it('given a record without ApproximateCreationDateTime, when delivered, then its Lambda record has none either', async () => {
    const record = aRecord(1);
    delete record.dynamodb?.ApproximateCreationDateTime;
    givenStream([record]);
    const seen: DynamoDBStreamEvent[] = [];
    await poller().drain(async (event) => {
      seen.push(event);
      return undefined;
    });
    expect(seen[0]?.Records[0]?.dynamodb?.ApproximateCreationDateTime).toBeUndefined();
    expect(seen[0]?.Records[0]?.dynamodb?.SequenceNumber).toBe('101');
  });

  it('given a handler, when a batch is delivered, then it gets a Lambda context naming the local stream consumer', async () => {
    givenStream([aRecord(1)]);
    const functionNames: string[] = [];
    await poller().drain(async (_event, context) => {
      functionNames.push(context.functionName);
      return undefined;
    });
    expect(functionNames).toEqual(['local-stream-consumer']);
  });

  it('given rewind, then everything is delivered again from TRIM_HORIZON', async () => {
    givenStream([aRecord(1)]);
    const p = poller();
    let delivered = 0;
    const count = async (event: DynamoDBStreamEvent) => {
      delivered += event.Records.length;
      return undefined;
    };
    await p.drain(count);
    p.rewind();
    await p.drain(count);
    expect(delivered).toBe(2);
  });

  it('given fewer records than expected before the deadline, then drain fails with a summary', async () => {
    givenStream([]);
    await expect(
      poller().drain(async () => undefined, { minRecords: 1, timeoutMs: 120 }),
    ).rejects.toBeInstanceOf(StreamDrainTimeoutError);
  });

  it('given a closed parent and an open child shard, then the parent is read first and finished', async () => {
    const records = [aRecord(1)];
    givenStream(records, [
      { ShardId: 'child', ParentShardId: 'parent', SequenceNumberRange: {} },
      { ShardId: 'parent', SequenceNumberRange: { EndingSequenceNumber: '200' } },
    ] as never);
    streamsMock.on(GetRecordsCommand).callsFake((input) => {
      const from = Number(input.ShardIterator);
      const page = records.slice(from);
      return { Records: page, NextShardIterator: page.length > 0 ? String(from + page.length) : undefined };
    });
    const shardsSeen: string[] = [];
    const p = poller();
    for (;;) {
      const result = await p.deliverNext(async () => undefined);
      if (!result) break;
      shardsSeen.push(result.shardId);
    }
    expect(shardsSeen).toEqual(['parent', 'child']);
    p.destroy();
  });

  it('given a followed stream, when records arrive after it caught up, then they are delivered too, until stopped', async () => {
    const records = [aRecord(1)];
    givenStream(records);
    const controller = new AbortController();
    const delivered: string[][] = [];
    const loop = poller().follow(
      async (event) => {
        delivered.push(sequences(event) as string[]);
        if (delivered.length === 1) records.push(aRecord(2), aRecord(3));
        if (delivered.length === 2) controller.abort();
        return { batchItemFailures: [] };
      },
      { signal: controller.signal, idleMs: 1 },
    );
    await loop;
    expect(delivered).toEqual([['101'], ['102', '103']]);
  });

  it('given a followed stream whose polls fail or whose batch fails, then each is reported and polling goes on', async () => {
    givenStream([aRecord(1)]);
    streamsMock
      .on(DescribeStreamCommand)
      .rejectsOnce(new Error('emulator restarting'))
      .resolves({
        StreamDescription: { Shards: [{ ShardId: 'shard-1', SequenceNumberRange: {} }] },
      });
    const controller = new AbortController();
    const errors: unknown[] = [];
    const results: { delivered: number; failed: number }[] = [];
    let calls = 0;
    await poller().follow(
      async () => {
        calls++;
        if (calls === 1) throw new Error('projector failed');
        return { batchItemFailures: [] };
      },
      {
        signal: controller.signal,
        idleMs: 1,
        onError: (error) => errors.push(error),
        onDelivery: (result) => {
          results.push({ delivered: result.delivered, failed: result.failed });
          if (result.failed === 0) controller.abort();
        },
      },
    );
    expect(errors).toHaveLength(1);
    expect(results).toEqual([
      { delivered: 1, failed: 1 },
      { delivered: 1, failed: 0 },
    ]);
  });

  it('given an aborted signal, when followed, then nothing is read', async () => {
    const controller = new AbortController();
    controller.abort();
    await poller().follow(async () => undefined, { signal: controller.signal });
    expect(streamsMock.calls()).toHaveLength(0);
  });
});
