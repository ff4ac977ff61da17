/**
 * The AWS call budget of the projector: calls per job for a 100-record batch (the mapping's
 * BatchSize), counted by a client middleware on the real SDK clients against the emulators.
 * Goal: ≤ 0.35 calls per job amortized (Jobs statuses go 25 to a BatchExecuteStatement).
 */

import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { createProjectorHandler } from '../../src/handlers/projector.ts';
import { provisionLocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { instrumentedPorts, uniqueStage } from '../support/local-aws.ts';
import { appendRecord } from '../support/log-appends.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aNoRouteRecord, aRoutedRecord } from '../support/records.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

const tally = (calls: readonly string[]) =>
  Object.fromEntries([...new Set(calls)].map((name) => [name, calls.filter((c) => c === name).length]));

describe('given a batch of 100 routing records', () => {
  it('when the projector handles it, then it makes at most 0.35 AWS calls per job, and none but the marker and Jobs reads on redelivery', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('b') });
    const records = Array.from({ length: 100 }, (_, i) =>
      i % 10 === 9 ? aNoRouteRecord() : aRoutedRecord({ provider: i % 2 === 0 ? 'fal' : 'replicate' }),
    );
    const client = createDocumentClient();
    const log = new DynamoDbRoutingLog(client, stack.tables.routingLog);
    await Promise.all(records.map((record) => appendRecord(log, record)));
    client.destroy();

    const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn, batchSize: 100 });
    const first = instrumentedPorts(stack);
    const summary = await poller.drain(createProjectorHandler(first.ports, createTelemetry('projector')), {
      minRecords: 100,
    });
    expect(summary).toMatchObject({ batches: 1, delivered: 100, failed: 0 });

    poller.rewind();
    const again = instrumentedPorts(stack);
    await poller.drain(createProjectorHandler(again.ports, createTelemetry('projector')), {
      minRecords: 100,
    });
    poller.destroy();
    first.destroy();
    again.destroy();

    const perJob = first.log.calls.length / 100;
    console.log(
      `projector AWS calls for 100 records (50 routed to fal, 40 to replicate, 10 rejected): ${first.log.calls.length}` +
        ` = ${perJob.toFixed(2)} per job ${JSON.stringify(tally(first.log.calls))};` +
        ` full redelivery: ${again.log.calls.length} ${JSON.stringify(tally(again.log.calls))}`,
    );
    expect(perJob).toBeLessThanOrEqual(0.35);
    expect(again.log.calls).toEqual(['BatchGetItem', 'BatchGetItem']);
  });
});
