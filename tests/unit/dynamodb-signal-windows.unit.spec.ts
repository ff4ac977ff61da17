import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import {
  DynamoDbSignalWindows,
  UnreadableSignalWindowsError,
} from '../../src/aws/dynamodb-signal-windows.ts';
import { jobShapeOf } from '../../src/commands/record-dispatch-outcome.ts';
import { initialJobState } from '../../src/log/job-state.ts';
import { closeWindow, startedFact, WINDOW_MS } from '../../src/provider-health/signal-windows.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
const store = () =>
  new DynamoDbSignalWindows(createDocumentClient(), 'ProviderHealth-test', { windowMs: WINDOW_MS });
const pair = { provider: 'fal', model: null };
const fact = startedFact({ key: 'k', atMs: 1_000_000, ...pair, queueWaitMs: 5 });

describe('DynamoDbSignalWindows edge cases', () => {
  beforeEach(() => dynamodb.reset());

  it('given a failing put of a fact group, when ingesting, then the error propagates (the batch is delivered again and rewrites it)', async () => {
    dynamodb.on(UpdateCommand).resolves({});
    dynamodb.on(PutCommand).rejects(new Error('ThrottlingException'));
    await expect(store().ingest([fact])).rejects.toThrow('ThrottlingException');
  });

  it('given a failing index ADD, when ingesting, then the error propagates though the group was put', async () => {
    dynamodb.on(PutCommand).resolves({});
    dynamodb.on(UpdateCommand).resolvesOnce({}).rejects(new Error('ThrottlingException'));
    await expect(store().ingest([fact])).rejects.toThrow('ThrottlingException');
    expect(dynamodb.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('given a group, when ingested, then its item and its index entry are sent together, not one after the other', async () => {
    const sent: string[] = [];
    let releasePut: () => void = () => undefined;
    dynamodb.on(UpdateCommand).callsFake((input) => {
      sent.push(String(input.Key.pk).split('#').slice(0, 2).join('#'));
      return {};
    });
    dynamodb.on(PutCommand).callsFake(async () => {
      sent.push('put');
      await new Promise<void>((resolve) => {
        releasePut = resolve;
      });
      return {};
    });
    const ingesting = store().ingest([fact]);
    // The index entry is sent while the put is still pending.
    await vi.waitFor(() => expect([...sent].sort()).toEqual(['put', 'window#groups', 'window#summary']));
    releasePut();
    await ingesting;
  });

  it('given a container that listed a window, when it ingests there again, then it does not list it again', async () => {
    dynamodb.on(UpdateCommand).resolves({});
    dynamodb.on(PutCommand).resolves({});
    const windows = store();
    await windows.ingest([fact]);
    await windows.ingest([{ ...fact, key: 'k2' }]);
    // One summary listing, then per group: one PutItem and one index ADD.
    expect(dynamodb.commandCalls(UpdateCommand)).toHaveLength(3);
    expect(dynamodb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('given a group whose stored facts are malformed, when the window is read, then they are left out, never thrown', async () => {
    dynamodb.on(BatchGetCommand).callsFake((input) => {
      const keys = input.RequestItems['ProviderHealth-test'].Keys as { pk: string }[];
      const items = keys.flatMap(({ pk }): Record<string, unknown>[] => {
        if (pk === 'window#groups#fal#-#0#0') return [{ pk, g: new Set(['a', 'b', 'c']) }];
        if (pk.endsWith('#a')) return [{ pk, f: '{not json' }];
        if (pk.endsWith('#b'))
          return [{ pk, f: JSON.stringify([['k1', { n: 1 }], 'x', [2, {}], ['k2', null]]) }];
        if (pk.endsWith('#c')) return [{ pk, f: JSON.stringify({ not: 'a list' }) }];
        return [];
      });
      return { Responses: { 'ProviderHealth-test': items } };
    });
    const read = await store().readWindows([{ pair, windowStartMs: 0 }]);
    expect(read.get('fal#-#0')).toEqual({ n: 1 });
  });

  it('given a failing put of a closed window, when storing, then the error propagates', async () => {
    dynamodb.on(PutCommand).rejects(new Error('ThrottlingException'));
    await expect(store().storeClosed(closeWindow(pair, 0, { n: 1 }), 5)).rejects.toThrow(
      'ThrottlingException',
    );
  });

  it('given a window closed by another closer, when storing it, then the stored sums go to the summary', async () => {
    dynamodb
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamodb
      .on(GetCommand)
      .resolves({ Item: { pk: 'x', id: 'fal#-#0', windowMs: WINDOW_MS, counts: { n: 7 } } });
    dynamodb.on(UpdateCommand).resolves({ Attributes: { pk: 'window#summary#fal#-', 'w:0': { n: 7 } } });
    await store().storeClosed(closeWindow(pair, 0, { n: 1 }), 5);
    expect(
      dynamodb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':counts'],
    ).toEqual({ n: 7 });
  });

  it('given index items left unprocessed round after round, when reading, then it is a typed unreadable error', async () => {
    dynamodb
      .on(BatchGetCommand)
      .callsFake((input) => ({ Responses: {}, UnprocessedKeys: input.RequestItems }));
    await expect(store().readWindows([{ pair, windowStartMs: 0 }])).rejects.toBeInstanceOf(
      UnreadableSignalWindowsError,
    );
  });

  it('given a summary with foreign attributes, when read, then only whole counters and numeric window starts count', async () => {
    dynamodb.on(BatchGetCommand).resolves({
      Responses: {
        'ProviderHealth-test': [
          {
            pk: 'window#summary#fal#-',
            open: new Set([20_000, 'x']),
            'w:10000': { n: 2, bad: 'x' },
            'w:zz': {},
            'w:0': 'text',
          },
        ],
      },
    });
    const summary = (await store().readSummaries([pair])).get('fal#-');
    expect(summary?.open).toEqual([20_000]);
    expect(summary?.closed.map((w) => [w.windowStartMs, w.counts])).toEqual([
      [0, {}],
      [10_000, { n: 2 }],
    ]);
  });
});

describe('the job shape a completion is counted under', () => {
  const withJob = (job: unknown) => ({ ...initialJobState, decision: { data: { job } } as never });
  it('given decisions, then only a resolution and a finite length make a shape', () => {
    expect(jobShapeOf(withJob(JSON.stringify({ resolution: '720p', lengthSec: 5 })))).toEqual({
      resolution: '720p',
      lengthSec: 5,
    });
    expect(jobShapeOf(withJob(JSON.stringify({ resolution: '720p' })))).toBeUndefined();
    expect(jobShapeOf(withJob('{not json'))).toBeUndefined();
    expect(jobShapeOf(withJob(null))).toBeUndefined();
    expect(jobShapeOf(initialJobState)).toBeUndefined();
  });
});
