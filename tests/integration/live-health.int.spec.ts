/**
 * The live local stack takes provider signals from its bus exactly as the template's
 * HealthSignalsRule does on AWS: an operator's status event forces the breaker, and the next auto
 * job fails over.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import type { LocalRun } from '../../src/local/run-local.ts';
import { aLiveLocalRun } from '../support/live-run.ts';
import { readJob } from '../support/local-aws.ts';
import { aSubmissionDetail } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

let run: LocalRun;
const reports: string[] = [];

beforeAll(async () => {
  run = await aLiveLocalRun('h', reports);
});
afterAll(async () => {
  await run.stop();
});

async function put(source: string, detailType: string, detail: unknown) {
  const events = new EventBridgeClient({});
  try {
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: run.stack.eventBusName,
            Source: source,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    expect(FailedEntryCount).toBe(0);
  } finally {
    events.destroy();
  }
}

describe('a live local stack and provider health', () => {
  it('given an operator forces fal open on the bus, then the breaker is open and the next auto job goes to Replicate', async () => {
    await put('provider.invoker', 'provider.status.changed', {
      provider: 'fal',
      state: 'forced_open',
      actor: 'ops@example.com',
      reason: 'incident',
    });
    const store = new DynamoDbProviderHealthStore(createDocumentClient(), {
      health: run.stack.tables.providerHealth,
      log: run.stack.tables.routingLog,
    });
    await eventually(
      async () =>
        (await store.load({ provider: 'fal', model: null })).state.mode === 'forced_open' ? true : undefined,
      {
        what: 'fal forced open',
      },
    );
    // The report line is printed after the commit the store read shows, so under load it can
    // trail that read by a poll; wait for it rather than racing it.
    await eventually(
      async () => (reports.some((line) => line.includes('health fal closed → open (v1)')) ? true : undefined),
      {
        what: 'the transition reported',
      },
    );

    const detail = aSubmissionDetail({ lengthSec: 8, resolution: '720p', provider: 'auto' });
    await put('frontend.api', 'video.job.submitted', detail);
    const job = await eventually(async () => readJob(run.stack, detail.jobId as string), {
      what: 'job projected',
    });
    expect(job).toMatchObject({ status: 'ROUTED', provider: 'replicate' });
  });
});
