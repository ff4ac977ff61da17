/**
 * The live local stack takes provider signals from its bus exactly as the template's
 * HealthSignalsRule does on AWS: an operator's status event forces the breaker, and the next auto
 * job fails over.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import type { LocalRun } from '../../src/local/run-local.ts';
import { WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
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

describe('a live local stack and re-published attempt reports', () => {
  it('given one success report published four times through PutEvents (four envelope ids), then the breaker counts it once and the job records one outcome', async () => {
    const detail = aSubmissionDetail({ lengthSec: 8, resolution: '720p', provider: 'replicate' });
    await put('frontend.api', 'video.job.submitted', detail);
    const jobId = detail.jobId as string;
    await eventually(async () => readJob(run.stack, jobId), { what: 'job projected' });
    const report = {
      jobId,
      provider: 'replicate',
      model: 'wan-2.1-i2v',
      dispatchId: `${jobId}:v1`,
      outcome: 'succeeded',
      errorClass: null,
      attemptId: `${jobId}:v1#1`,
    };
    // An SDK retry, an outbox publishing twice, a DLQ redrive: the same report, new envelope each time.
    for (let copy = 0; copy < 4; copy++) await put('provider.invoker', 'provider.attempt.completed', report);

    const store = new DynamoDbProviderHealthStore(createDocumentClient(), {
      health: run.stack.tables.providerHealth,
      log: run.stack.tables.routingLog,
    });
    const log = new DynamoDbRoutingLog(createDocumentClient(), run.stack.tables.routingLog);
    const outcomes = await eventually(
      async () => {
        const stream = await log.readStream(`job#${jobId}`);
        const recorded = stream.filter((record) => record.type === 'DispatchOutcomeRecorded');
        return recorded.length > 0 ? recorded : undefined;
      },
      { what: 'the outcome recorded in the job stream' },
    );
    // Let every copy reach the handler before counting (each is one [live] line).
    await eventually(
      async () =>
        reports.filter((line) => line.includes(`job ${jobId} `) && line.includes('done')).length >= 1 &&
        reports.filter((line) => line.includes(`job ${jobId} outcome not recorded (already_done)`)).length >=
          3
          ? true
          : undefined,
      { what: 'every copy handled' },
    );
    // A success raises the breaker's success register (never its item) and is counted once in its
    // signal window (of its event time, within the last few minutes), whichever copy came first.
    expect(await store.readSuccessRegister('replicate#wan-2.1-i2v')).not.toBeNull();
    const windows = new DynamoDbSignalWindows(createDocumentClient(), run.stack.tables.providerHealth, {
      windowMs: WINDOW_MS,
    });
    const pair = { provider: 'replicate', model: 'wan-2.1-i2v' };
    const latest = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
    const recent = Array.from({ length: 30 }, (_, k) => ({ pair, windowStartMs: latest - k * WINDOW_MS }));
    const open = [...(await windows.readWindows(recent)).values()].reduce(
      (sum, c) => sum + (c['o:succeeded'] ?? 0),
      0,
    );
    const closed = ((await windows.readSummaries([pair])).get('replicate#wan-2.1-i2v')?.closed ?? []).reduce(
      (sum, w) => sum + (w.counts['o:succeeded'] ?? 0),
      0,
    );
    // Counted in its window, whether that window is still open or already closed (never both:
    // a closed window's record is the fold of the same facts).
    expect(Math.max(open, closed)).toBe(1);
    // The success never committed on the breaker item: nothing counted there, no transition. (The
    // live stack's window closer may have judged the window by now: that commit is the judged mark.)
    const { state } = await store.load({ provider: 'replicate', model: 'wan-2.1-i2v' });
    expect(state).toMatchObject({ version: 0, status: 'closed', consecutiveFailures: 0, probe: null });
    expect(outcomes).toHaveLength(1);
    expect((await log.readStream(`job#${jobId}`)).map((record) => record.type)).toEqual([
      'RoutingDecided',
      'DispatchOutcomeRecorded',
    ]);
  });
});
