/**
 * The hold scenario on the live local stack (`npm run local -- --keep`, in-process on the suite's
 * emulators), everything through its bus as on AWS: with `providers.fal.concurrency: 2`, auto jobs
 * beyond two go to the fallback; an explicit fal job submitted while fal is full is held — never
 * sent to Replicate — and reaches FalJobQueue once a fal completion frees a slot; after another
 * completion (nothing held) the next auto job goes to fal again.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { type LocalRun, runLocal } from '../../src/local/run-local.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { readJob, receiveAll } from '../support/local-aws.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

let run: LocalRun;
const reports: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  run = await runLocal({
    inputs: [],
    stage: uniqueStage('hl'),
    emulators: inject('emulatorEndpoints'),
    rules: { table: aTableWithConcurrency({ fal: 2 }), origin: 'fal-2.json' },
    live: { report: (line) => reports.push(line), waitSeconds: 1 },
  });
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

const submit = (detail: Record<string, unknown>) => put('frontend.api', 'video.job.submitted', detail);
const complete = (jobId: string, version = 1) =>
  put('provider.invoker', 'provider.attempt.completed', {
    jobId,
    provider: 'fal',
    model: 'wan-i2v',
    dispatchId: `${jobId}:v${version}`,
    outcome: 'succeeded',
    errorClass: null,
  });
/** Where the job's Jobs item says it was routed, once a decision (not a hold) is projected there. */
const routedTo = async (jobId: string) => {
  const job = await eventually(
    async () => {
      const item = await readJob(run.stack, jobId);
      return item && item.status !== 'HELD' ? item : undefined;
    },
    { what: `job ${jobId} projected` },
  );
  return job?.provider;
};

describe('holds on the live local stack (fal concurrency 2)', () => {
  it('given fal full, when an explicit fal job arrives, then it is held, never sent to Replicate, and reaches FalJobQueue once a fal completion frees a slot', {
    timeout: 120_000,
  }, async () => {
    const log = new DynamoDbRoutingLog(createDocumentClient(), run.stack.tables.routingLog);
    const [a1, a2, a3] = [1, 2, 3].map(() => aSubmissionDetail({ provider: 'auto' }));
    await submit(a1 as Record<string, unknown>);
    await submit(a2 as Record<string, unknown>);
    expect(await routedTo(a1?.jobId as string)).toBe('fal');
    expect(await routedTo(a2?.jobId as string)).toBe('fal');
    // Beyond two, auto jobs go to the fallback.
    await submit(a3 as Record<string, unknown>);
    expect(await routedTo(a3?.jobId as string)).toBe('replicate');

    const explicit = aSubmissionDetail({ provider: 'fal' });
    const jobId = explicit.jobId as string;
    await submit(explicit);
    const deferral = await eventually(
      async () => (await log.readStream(`job#${jobId}`)).find((record) => record.type === 'RoutingDeferred'),
      { what: 'the explicit job held' },
    );
    expect(deferral).toMatchObject({ data: { waitingFor: ['fal'] }, metadata: { version: 1 } });
    // Its Jobs item shows the hold (HELD at version 1, at no provider) until it is decided.
    const held = await eventually(async () => readJob(run.stack, jobId), { what: 'the held job projected' });
    expect(held).toMatchObject({ status: 'HELD', routingVersion: 1 });
    expect(held).not.toHaveProperty('provider');

    await complete(a1?.jobId as string);
    expect(await routedTo(jobId)).toBe('fal');
    expect(
      (await log.readStream(`job#${jobId}`)).map((r) => [
        r.type,
        'provider' in r.data ? r.data.provider : null,
      ]),
    ).toEqual([
      ['RoutingDeferred', null],
      ['RoutingDecided', 'fal'],
    ]);
    const onFal = await receiveAll(run.stack.queues.fal, {
      expected: 2,
      accept: (message) => message.body.includes(jobId) || message.body.includes(a1?.jobId as string),
    });
    expect(
      onFal.filter((m) => JSON.parse(m.body).jobId === jobId).map((m) => JSON.parse(m.body).dispatchId),
    ).toEqual([`${jobId}:v2`]);
    const onReplicate = await receiveAll(run.stack.queues.replicate, { expected: 1 });
    expect(onReplicate.map((m) => JSON.parse(m.body).jobId)).not.toContain(jobId);
    expect(reports.some((line) => line.includes(`job ${jobId} held`))).toBe(true);

    // Nothing held any more: the next completion frees a slot and the next auto job goes to fal.
    await complete(a2?.jobId as string);
    await eventually(
      async () =>
        reports.some((line) => line.includes(`fal slot released`) && line.includes('health'))
          ? true
          : undefined,
      {
        what: 'the second release',
      },
    );
    await eventually(
      async () =>
        reports.filter((line) => line.includes('fal slot released')).length >= 2 ? true : undefined,
      { what: 'both releases reported' },
    );
    const next = aSubmissionDetail({ provider: 'auto' });
    await submit(next);
    expect(await routedTo(next.jobId as string)).toBe('fal');
  });
});
