/** Byte-aware chunking, split-and-resend and the decision-time size check (issue 9, class 1). */
import { describe, expect, it } from 'vitest';
import {
  PUT_EVENTS_MAX_BYTES,
  putEventsEntryBytes,
  SQS_BATCH_MAX_BYTES,
} from '../../src/batching/aws-batch-limits.ts';
import { chunksWithin } from '../../src/batching/chunks.ts';
import {
  ENTRY_TOO_LARGE,
  type EntryFailure,
  sendWithPartialRetry,
} from '../../src/batching/partial-retry.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { QueueMessage } from '../../src/ports/provider-queues.ts';
import {
  DEFAULT_QUEUE_MAX_MESSAGE_BYTES,
  dispatchMessageBytes,
  dispatchToProviderQueues,
  queueMessageBytes,
  queueMessageOf,
} from '../../src/projections/dispatch.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { inMemoryContentPorts, openedRecord } from '../support/content.ts';
import { aRoutedRecord } from '../support/records.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const noPause = { extraAttempts: 2, backoffMs: () => 0 };
const clientFault = (name: string) => Object.assign(new Error('refused'), { name, $fault: 'client' });

describe('chunksWithin', () => {
  it('given entries whose sizes add up past the byte limit, then a chunk closes before the limit and order is kept', () => {
    const chunks = chunksWithin([400, 400, 400, 100, 100], 10, 1000, (size) => size);
    expect(chunks).toEqual([
      [400, 400],
      [400, 100, 100],
    ]);
  });

  it('given more entries than the count limit, then chunks hold at most that many', () => {
    expect(chunksWithin([1, 1, 1, 1, 1], 2, 1000, (size) => size).map((chunk) => chunk.length)).toEqual([
      2, 2, 1,
    ]);
  });
});

describe('sendWithPartialRetry', () => {
  it('given one entry the API refuses the whole call for, when sending 10, then the call is bisected and only that entry fails', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}` }));
    const calls: string[][] = [];
    const results = await sendWithPartialRetry(
      entries,
      { maxEntries: 10, maxBatchBytes: 1000, maxEntryBytes: 100 },
      () => 1,
      async (chunk) => {
        calls.push(chunk.map((entry) => entry.id));
        if (chunk.some((entry) => entry.id === 'e7')) throw clientFault('InvalidMessageContents');
        return new Map();
      },
      noPause,
    );
    expect(results.get('e7')).toMatchObject({ ok: false, code: 'InvalidMessageContents', retryable: false });
    expect([...results].filter(([, result]) => result.ok)).toHaveLength(9);
    expect(calls.length).toBeLessThanOrEqual(2 * 10 - 1);
  });

  it('given an entry larger than the per-entry limit, then it fails alone, unsent, and its neighbours are sent', async () => {
    const sent: string[] = [];
    const results = await sendWithPartialRetry(
      [
        { id: 'small', size: 10 },
        { id: 'huge', size: 101 },
      ],
      { maxEntries: 10, maxBatchBytes: 1000, maxEntryBytes: 100 },
      (entry) => entry.size,
      async (chunk) => {
        sent.push(...chunk.map((entry) => entry.id));
        return new Map();
      },
      noPause,
    );
    expect(sent).toEqual(['small']);
    expect(results.get('huge')).toMatchObject({ ok: false, code: ENTRY_TOO_LARGE, retryable: false });
  });

  it('given a throttled call, when it succeeds on the resend, then every entry is ok and the resend was the whole chunk once', async () => {
    let calls = 0;
    const results = await sendWithPartialRetry(
      [{ id: 'a' }, { id: 'b' }],
      { maxEntries: 10, maxBatchBytes: 1000, maxEntryBytes: 100 },
      () => 1,
      async () => {
        calls++;
        if (calls === 1)
          throw Object.assign(new Error('slow down'), { name: 'ThrottlingException', $fault: 'client' });
        return new Map<string, EntryFailure>();
      },
      noPause,
    );
    expect(calls).toBe(2);
    expect([...results.values()]).toEqual([{ ok: true }, { ok: true }]);
  });

  it('given a refusal no entry can cause (access denied), then the chunk fails without bisecting or resending', async () => {
    let calls = 0;
    const results = await sendWithPartialRetry(
      [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      { maxEntries: 10, maxBatchBytes: 1000, maxEntryBytes: 100 },
      () => 1,
      async () => {
        calls++;
        throw clientFault('AccessDeniedException');
      },
      noPause,
    );
    expect(calls).toBe(1);
    expect(results.get('b')).toMatchObject({ ok: false, retryable: false, code: 'AccessDeniedException' });
  });
});

describe('provider-queue message size', () => {
  it('given a dispatch, then its size counts the body and every attribute name, type and value in UTF-8', () => {
    const dispatch = planEffects(aRoutedRecord({ prompt: 'é' })).dispatch;
    if (!dispatch) throw new Error('expected a dispatch');
    const message = queueMessageOf(dispatch, 'm0');
    const attributes =
      'dispatchId'.length +
      'String'.length +
      dispatch.dispatchId.length +
      'jobId'.length +
      'String'.length +
      dispatch.jobId.length +
      'provider'.length +
      'String'.length +
      dispatch.provider.length +
      'routingVersion'.length +
      'Number'.length +
      1;
    expect(queueMessageBytes(message)).toBe(Buffer.byteLength(message.body) + attributes);
  });

  it('given six 180 KB jobs, when dispatched, then no SendMessageBatch carries more than 1 MiB and every job is sent once', async () => {
    const big = 'x'.repeat(180_000);
    const dispatches = Array.from({ length: 6 }, () => planEffects(aRoutedRecord({ blob: big })).dispatch);
    const calls: QueueMessage[][] = [];
    const results = await dispatchToProviderQueues(
      dispatches.map((d) => d as NonNullable<typeof d>),
      {
        sender: {
          sendBatch: async (_url, chunk) => {
            calls.push([...chunk]);
            return new Map();
          },
        },
        queueUrls: { fal: 'https://sqs.local/fal' },
      },
    );
    expect([...results.values()].every((result) => result.ok)).toBe(true);
    expect(calls.flat()).toHaveLength(6);
    for (const call of calls) {
      expect(call.reduce((sum, message) => sum + queueMessageBytes(message), 0)).toBeLessThanOrEqual(
        SQS_BATCH_MAX_BYTES,
      );
    }
    expect(calls.length).toBeGreaterThan(1);
  });

  it('given an announcement, then its entry size is Source + DetailType + Detail in UTF-8 and stays far under 256 KB', () => {
    const entry = { id: 'a', source: 'routing.manager', detailType: 'video.job.routed', detail: '{"x":"é"}' };
    expect(putEventsEntryBytes(entry)).toBe(15 + 16 + 10);
    expect(putEventsEntryBytes(entry)).toBeLessThan(PUT_EVENTS_MAX_BYTES);
  });
});

describe('RouteJob: a job whose message can never fit the provider queue', () => {
  // The record as the projector reads it: the message is built from the job with its content.
  const route = async (detail: Record<string, unknown>, maxMessageBytes?: number) => {
    const log = new InMemoryRoutingLog();
    const vault = new InMemoryContentVault();
    await routeJob(
      { type: 'RouteJob', data: { event: aSubmittedEvent(detail) } },
      {
        log,
        credits: new InMemoryCreditBalances(),
        table: defaultRoutingTable,
        ...inMemoryContentPorts(vault),
        now: () => new Date('2026-11-25T10:00:01.000Z'),
        newId: () => 'id',
        ...(maxMessageBytes ? { maxMessageBytes } : {}),
      },
    );
    return openedRecord((await log.readStream(`job#${detail.jobId as string}`))[0], vault);
  };

  it('given a routable job of 150 KB and a 100 KB queue maximum, when routed, then it is rejected message_too_large with both sizes recorded', async () => {
    const record = await route(aSubmissionDetail({ provider: 'fal', blob: 'x'.repeat(150_000) }), 100_000);
    expect(record).toMatchObject({
      type: 'RoutingRejected',
      data: { reason: 'message_too_large', requestedProvider: 'fal', maxMessageBytes: 100_000 },
    });
    expect(record?.type === 'RoutingRejected' && record.data.messageBytes).toBeGreaterThan(150_000);
    expect(planEffects(record as never).announcement.detail).toMatchObject({ reason: 'message_too_large' });
  });

  it('given a 180 KB job, when routed with the default maximum, then it is routed and its real message fits with the headroom', async () => {
    const record = await route(aSubmissionDetail({ blob: 'x'.repeat(180_000) }));
    expect(record).toMatchObject({ type: 'RoutingDecided' });
    expect(dispatchMessageBytes(record as never)).toBeLessThanOrEqual(DEFAULT_QUEUE_MAX_MESSAGE_BYTES);
  });

  it('given a job exactly at the limit, then one byte less of queue maximum rejects it', async () => {
    const detail = aSubmissionDetail({ blob: 'x'.repeat(10_000) });
    const routed = await route(detail, 1_048_576);
    const size = dispatchMessageBytes(routed as never);
    expect(await route({ ...detail, jobId: `${detail.jobId}-a` }, size + 10)).toMatchObject({
      type: 'RoutingDecided',
    });
    expect(await route({ ...detail, jobId: `${detail.jobId}-b` }, size - 1)).toMatchObject({
      data: { reason: 'message_too_large' },
    });
  });
});
