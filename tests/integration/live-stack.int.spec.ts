/**
 * The live local stack (`npm run local -- --keep`) in-process on the suite's emulators: a real
 * PutEvents on the stack's bus, and `routing-manager submit`, are routed through the real rule and
 * intake queue into the router, and the followed stream projects them — asserted by what landed.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { IntakeQueueDrainer, provisionLiveIntake } from '../../src/local/live-intake.ts';
import type { LocalRun } from '../../src/local/run-local.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { aLiveLocalRun } from '../support/live-run.ts';
import { readJob, receiveAll } from '../support/local-aws.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

let run: LocalRun;
const reports: string[] = [];

beforeAll(async () => {
  run = await aLiveLocalRun('v', reports);
});
afterAll(async () => {
  await run.stop();
  await removeEventDirectories();
});

const cli = async (...argv: string[]) => {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: run.environment });
  return { code, stdout, stderr };
};

const projected = (jobId: string) =>
  eventually(async () => (await readJob(run.stack, jobId))?.status, { what: `job ${jobId} projected` });

describe('a live local stack', () => {
  it('given a submission put on its bus with PutEvents, when the stack is live, then it is routed, dispatched, announced and projected', async () => {
    const detail = aSubmissionDetail();
    const events = new EventBridgeClient({});
    const startedAt = Date.now();
    try {
      const { FailedEntryCount } = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: run.stack.eventBusName,
              Source: 'frontend.api',
              DetailType: 'video.job.submitted',
              Detail: JSON.stringify(detail),
            },
          ],
        }),
      );
      expect(FailedEntryCount).toBe(0);
    } finally {
      events.destroy();
    }
    expect(await projected(detail.jobId as string)).toBe('ROUTED');
    const secondsToProjected = (Date.now() - startedAt) / 1000;
    expect(secondsToProjected).toBeLessThan(10);
    const [message] = await receiveAll(run.stack.queues.fal, {
      expected: 1,
      accept: (m) => m.body.includes(detail.jobId as string),
    });
    expect(JSON.parse(message?.body ?? '{}')).toMatchObject({ jobId: detail.jobId });
    const announcements = await receiveAll(run.stack.queues.announcements, {
      expected: 1,
      accept: (m) => m.body.includes(detail.jobId as string),
    });
    expect(JSON.parse(announcements[0]?.body ?? '{}')).toMatchObject({
      'detail-type': 'video.job.routed',
      detail: { jobId: detail.jobId, provider: 'fal' },
    });
    expect(reports).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`job ${detail.jobId} routed to fal$`))]),
    );
  });

  it('given files, when submitted with routing-manager submit, then each is routed and a rejection without jobId is found by its eventId', async () => {
    const routed = aSubmissionDetail({ provider: 'replicate' });
    const directory = await anEventDirectory({
      'routed.json': aSubmittedEvent(routed),
      'batch.json': [aSubmissionDetail({ resolution: '4k' }), { userId: 'user-123', lengthSec: 8 }],
    });
    const submitted = await cli('submit', '--json', `${directory}/routed.json`, `${directory}/batch.json`);
    expect(submitted.code, submitted.stderr.text()).toBe(0);
    const results = submitted.stdout.jsonLines() as { eventId: string; jobId: string | null; error: null }[];
    expect(results).toHaveLength(3);
    expect(results.every((result) => result.error === null && result.eventId.length > 0)).toBe(true);
    expect(submitted.stderr.text()).toMatch(`put 3 of 3 event(s) on bus ${run.stack.eventBusName}`);

    expect(await projected(routed.jobId as string)).toBe('ROUTED');
    expect(await projected(results[1]?.jobId as string)).toBe('REJECTED');
    const jobless = results[2]?.eventId as string;
    const history = await eventually(
      async () => {
        const answer = await cli('history', `event#${jobless}`, '--json');
        return answer.code === 0 ? answer : null;
      },
      { what: 'the jobless rejection in the log' },
    );
    expect(history.stdout.jsonLines()[0]).toMatchObject({
      records: [{ type: 'RoutingRejected', reason: 'invalid_request', eventId: jobless }],
    });
  });

  it('given a file that does not exist, when submitted, then it exits 2 naming it and puts nothing', async () => {
    const answer = await cli('submit', '/no/such/submission.json');
    expect(answer.code).toBe(2);
    expect(answer.stderr.text()).toMatch(/\/no\/such\/submission\.json: no such file or directory/);
  });
});

describe('the intake queue drainer', () => {
  const sqs = new SQSClient({});
  afterAll(() => sqs.destroy());

  it('given what no rule would deliver, a failing handler and a good event, when drained, then each is treated alone', async () => {
    const stage = uniqueStage('i');
    const intake = await provisionLiveIntake({ stage, eventBusName: run.stack.eventBusName }, []);
    const lines: string[] = [];
    const handled: string[] = [];
    const drainer = new IntakeQueueDrainer({
      queueUrl: intake.queueUrl,
      report: (line) => lines.push(line),
      routes: [
        {
          name: 'test',
          source: 'test.source',
          detailTypes: ['ok', 'boom'],
          handle: async (event) => {
            if (event['detail-type'] === 'boom') throw new TypeError('handler failed');
            handled.push(event.id);
            return `handled ${event.id}`;
          },
        },
      ],
    });
    const send = (body: string) =>
      sqs.send(new SendMessageCommand({ QueueUrl: intake.queueUrl, MessageBody: body }));
    const event = (id: string, detailType: string) =>
      JSON.stringify({ id, source: 'test.source', 'detail-type': detailType, detail: {} });
    try {
      await send('not json');
      await send(JSON.stringify({ id: 'e-other', source: 'elsewhere', 'detail-type': 'ok', detail: {} }));
      await send(event('e-boom', 'boom'));
      await send(event('e-ok', 'ok'));
      await eventually(async () => {
        await drainer.receiveOnce(0);
        return handled.includes('e-ok') && lines.some((line) => line.includes('e-boom'));
      });
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^intake: dropped message .*: not an EventBridge event$/),
          'intake: dropped event e-other: no route for ok',
          'intake: test failed on event e-boom (TypeError); it is delivered again in 10 s',
          'handled e-ok',
        ]),
      );
    } finally {
      drainer.destroy();
      await sqs.send(new DeleteQueueCommand({ QueueUrl: intake.queueUrl }));
    }
  });

  it('given a queue that does not exist, when run, then the failure is reported and the loop ends when stopped', async () => {
    const lines: string[] = [];
    const drainer = new IntakeQueueDrainer({
      queueUrl: `${inject('emulatorEndpoints').moto}/123456789012/no-such-queue-${uniqueStage()}`,
      report: (line) => lines.push(line),
      routes: [],
      waitSeconds: 0,
    });
    const controller = new AbortController();
    const loop = drainer.run(controller.signal);
    await eventually(() => lines.length > 0, { what: 'a reported failure' });
    controller.abort();
    await loop;
    drainer.destroy();
    expect(lines[0]).toMatch(/^intake: ReceiveMessage failed \(\w+\); retrying$/);
  });
});
