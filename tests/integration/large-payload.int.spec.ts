/**
 * Issue 9, classes 1 and 4, against the emulators: large valid jobs (180 KB extra fields) among
 * small ones are all projected — none lost, none sent twice, none taking its neighbours down — and
 * a malformed stream image fails alone while the rest of its batch is projected.
 */

import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { createProjectorHandler } from '../../src/handlers/projector.ts';
import { provisionLocalStack } from '../../src/local/provision.ts';
import { type AbandonedBatch, DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { announcementIdOf } from '../../src/projections/effects.ts';
import {
  instrumentedPorts,
  readJob,
  receiveAll,
  receiveAnnouncements,
  uniqueStage,
} from '../support/local-aws.ts';
import { appendRecord } from '../support/log-appends.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aRoutedRecord } from '../support/records.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

const LARGE = 'x'.repeat(180_000);

async function appendAll(stackLog: string, records: readonly RoutingLogRecord[]) {
  const client = createDocumentClient();
  const log = new DynamoDbRoutingLog(client, stackLog);
  for (const record of records) await appendRecord(log, record);
  client.destroy();
}

describe('given a mix of 180 KB jobs among small ones', () => {
  it('when the projector drains the stream, then every job is dispatched once, announced once and ROUTED — 0 lost', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('lp') });
    const records = Array.from({ length: 30 }, (_, i) =>
      aRoutedRecord({
        provider: i % 3 === 2 ? 'replicate' : 'fal',
        ...(i % 4 === 0 ? { referenceImage: LARGE } : {}),
      }),
    );
    await appendAll(stack.tables.routingLog, records);

    const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn, maxRetryAttempts: 2 });
    const ports = instrumentedPorts(stack);
    const summary = await poller.drain(createProjectorHandler(ports.ports, createTelemetry('projector')), {
      minRecords: records.length,
      timeoutMs: 60_000,
    });
    poller.destroy();
    ports.destroy();
    expect(summary).toMatchObject({ failed: 0, abandoned: [] });

    const fal = await receiveAll(stack.queues.fal, { expected: 20 });
    const replicate = await receiveAll(stack.queues.replicate, { expected: 10 });
    const dispatched = [...fal, ...replicate].map((m) => m.attributes.dispatchId).sort();
    expect(dispatched).toEqual(records.map((r) => `${r.metadata.jobId}:v1`).sort());
    const large = [...fal, ...replicate].filter((m) => m.body.length > 180_000);
    expect(large).toHaveLength(8);
    expect(JSON.parse(large[0]?.body as string)).toMatchObject({ referenceImage: LARGE });

    const ids = new Set(records.map((r) => announcementIdOf(r.metadata.stream, r.metadata.version)));
    const announced = await receiveAnnouncements(stack, { expected: ids.size, ids });
    expect(announced.map((a) => a.detail.announcementId).sort()).toEqual([...ids].sort());
    for (const record of records)
      expect((await readJob(stack, record.metadata.jobId))?.status).toBe('ROUTED');

    const sends = ports.log.calls.filter((c) => c === 'SendMessageBatch').length;
    console.log(
      `large-payload mix (30 jobs, 8 × 180 KB): ${ports.log.calls.length} AWS calls = ` +
        `${(ports.log.calls.length / 30).toFixed(2)} per job, ${sends} SendMessageBatch, lost 0`,
    );
  }, 90_000);
});

describe('given a stream batch with one malformed image', () => {
  it('when delivered, then only that record fails (and is finally abandoned) while the rest are projected', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('mi') });
    const records = Array.from({ length: 5 }, () => aRoutedRecord({ provider: 'fal' }));
    await appendAll(stack.tables.routingLog, records);
    const poisoned = records[2]?.metadata.stream as string;
    const abandoned: AbandonedBatch[] = [];
    const poller = new DynamoDbStreamPoller({
      streamArn: stack.routingLogStreamArn,
      maxRetryAttempts: 1,
      onFailure: (batch) => {
        abandoned.push(batch);
      },
    });
    const ports = instrumentedPorts(stack);
    const projector = createProjectorHandler(ports.ports, createTelemetry('projector'));
    const summary = await poller.drain(
      async (event, context) => {
        for (const record of event.Records) {
          // Corrupt the image as a broken writer would: an attribute of no DynamoDB type.
          if (record.dynamodb?.Keys?.stream?.S === poisoned && record.dynamodb.NewImage) {
            (record.dynamodb.NewImage as Record<string, unknown>).job = { X: 'not a type' };
          }
        }
        return projector(event, context);
      },
      { minRecords: 5, timeoutMs: 30_000 },
    );
    poller.destroy();
    ports.destroy();

    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]?.batchSize).toBeGreaterThanOrEqual(1);
    expect(summary.failed).toBeGreaterThan(0);
    const fal = await receiveAll(stack.queues.fal, { expected: 4 });
    expect(fal.map((m) => m.attributes.jobId).sort()).toEqual(
      records
        .filter((r) => r.metadata.stream !== poisoned)
        .map((r) => r.metadata.jobId)
        .sort(),
    );
  }, 60_000);
});
