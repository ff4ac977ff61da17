import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler, type RouterResponse } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import {
  instrumentedPorts,
  readJob,
  receiveAll,
  receiveAnnouncements,
  uniqueStage,
} from '../support/local-aws.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { routerPortsOn } from '../support/stack-router.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

function routerFor(stack: LocalStack) {
  const client = createDocumentClient();
  const handler = createRouterHandler(
    routerPortsOn(stack, client, {
      newId: randomUUID,
    }),
    createTelemetry('router'),
  );
  return (event: ReturnType<typeof aSubmittedEvent>): Promise<RouterResponse> =>
    handler(event, aLocalLambdaContext('router'));
}

const projectorFor = (stack: LocalStack) =>
  createProjectorHandler(
    projectorPorts(loadProjectorConfig(handlerEnvironment(stack))),
    createTelemetry('projector'),
  );

const body = (message: { body: string }) => JSON.parse(message.body) as Record<string, unknown>;

describe('given the router, the routing log stream and the projector on the emulators', () => {
  let stack: LocalStack;
  const falDetail = aSubmissionDetail({ provider: 'auto', lengthSec: 8, resolution: '720p' });
  const replicateDetail = aSubmissionDetail({ provider: 'replicate', lengthSec: 40, resolution: '1080p' });
  const noRouteDetail = aSubmissionDetail({ lengthSec: 30 });
  const invalidDetail = aSubmissionDetail({ lengthSec: 'eight' });
  const noJobIdDetail = (() => {
    const detail = aSubmissionDetail();
    delete detail.jobId;
    return detail;
  })();
  const falEvent = aSubmittedEvent(falDetail);
  const responses: RouterResponse[] = [];
  const announcementIds = new Set<string>();

  beforeAll(async () => {
    stack = await provisionLocalStack({ stage: uniqueStage('e') });
    const route = routerFor(stack);
    for (const event of [
      falEvent,
      aSubmittedEvent(replicateDetail),
      aSubmittedEvent(noRouteDetail),
      aSubmittedEvent(invalidDetail),
      aSubmittedEvent(noJobIdDetail),
      falEvent, // redelivered by EventBridge: a duplicate
      aSubmittedEvent({ ...falDetail, prompt: 'a different corgi' }), // same jobId, other payload
    ]) {
      responses.push(await route(event));
    }
    for (const r of responses) announcementIds.add(`${r.stream}:v1:announce`);

    const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
    const summary = await poller.drain(projectorFor(stack), { minRecords: 5 });
    expect(summary).toMatchObject({ delivered: 5, failed: 0 });

    // Lambda may redeliver anything: replay the whole stream with a fresh projector.
    poller.rewind();
    await poller.drain(projectorFor(stack), { minRecords: 5 });
    poller.destroy();
  });

  it('when the same submission arrives twice or with another payload, then the router records one decision', () => {
    expect(responses.map((r) => r.outcome)).toEqual([
      'recorded',
      'recorded',
      'recorded',
      'recorded',
      'recorded',
      'duplicate',
      'conflicting_duplicate',
    ]);
  });

  it('when a job is routed to fal, then exactly one message with its dispatch id is on the fal queue', async () => {
    const messages = await receiveAll(stack.queues.fal, { expected: 1 });
    expect(messages).toHaveLength(1);
    const message = messages[0] as (typeof messages)[number];
    expect(message.attributes).toMatchObject({ dispatchId: `${falDetail.jobId}:v1`, provider: 'fal' });
    expect(message.attributes).toMatchObject({ routingVersion: '1' });
    // The body is the job itself, at top level, with the routing facts beside its fields.
    expect(body(message)).toEqual({
      ...falDetail,
      provider: 'fal',
      requestedProvider: falDetail.provider ?? 'auto',
      model: 'wan-i2v',
      queue: 'FalJobQueue',
      dispatchId: `${falDetail.jobId}:v1`,
      routingVersion: 1,
      routedAt: expect.any(String),
      dispatchKind: 'decision',
      revision: 0,
      previousDispatchId: null,
    });
  });

  it('when a job names replicate, then exactly one message is on the replicate queue', async () => {
    const messages = await receiveAll(stack.queues.replicate, { expected: 1 });
    expect(messages.map((m) => m.attributes.dispatchId)).toEqual([`${replicateDetail.jobId}:v1`]);
  });

  it('when the stream is replayed, then every decision is announced exactly once with its seed shape', async () => {
    const announcements = await receiveAnnouncements(stack, { expected: 5, ids: announcementIds });
    expect(announcements).toHaveLength(5);
    const byJob = new Map(announcements.map((a) => [a.detail.jobId ?? 'none', a]));
    expect(byJob.get(falDetail.jobId as string)).toMatchObject({
      source: 'routing.manager',
      'detail-type': 'video.job.routed',
      detail: { provider: 'fal', model: 'wan-i2v', queue: 'FalJobQueue', routedBy: 'RoutingManager' },
    });
    expect(byJob.get(noRouteDetail.jobId as string)).toMatchObject({
      'detail-type': 'video.job.rejected',
      detail: { status: 'rejected', reason: 'no_route' },
    });
    expect(byJob.get(invalidDetail.jobId as string)?.detail.reason).toBe('invalid_request');
    expect(byJob.get('none')).toMatchObject({
      detail: { jobId: null, reason: 'invalid_request', fieldErrors: expect.any(Array) },
    });
  });

  it('when decisions are projected, then Jobs carries the routing status and nothing for an event without jobId', async () => {
    expect(await readJob(stack, falDetail.jobId as string)).toMatchObject({
      status: 'ROUTED',
      provider: 'fal',
      model: 'wan-i2v',
      queue: 'FalJobQueue',
      routingVersion: 1,
    });
    expect(await readJob(stack, replicateDetail.jobId as string)).toMatchObject({ status: 'ROUTED' });
    expect(await readJob(stack, noRouteDetail.jobId as string)).toMatchObject({
      status: 'REJECTED',
      reason: 'no_route',
    });
    expect(await readJob(stack, invalidDetail.jobId as string)).toMatchObject({
      status: 'REJECTED',
      reason: 'invalid_request',
    });
  });
});

describe('given FIFO provider queues', () => {
  it('when a dispatch is resent after its completion was lost, then the FIFO queue keeps one message per dispatch id', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('f'), fifoProviderQueues: true });
    const route = routerFor(stack);
    const fal = aSubmissionDetail({ provider: 'fal' });
    const replicate = aSubmissionDetail({ provider: 'replicate' });
    await route(aSubmittedEvent(fal));
    await route(aSubmittedEvent(replicate));

    // First pass: effects happen but neither completion mark (the Jobs write, the marker) is
    // recorded — the documented duplicate window.
    const lossy = instrumentedPorts(stack, { fault: { command: 'BatchExecuteStatement', timing: 'before' } });
    const markers = {
      read: (ids: readonly string[]) => lossy.ports.markers.read(ids),
      write: async () => {
        throw new Error('marker write lost');
      },
    };
    const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
    await poller.drain(createProjectorHandler({ ...lossy.ports, markers }, createTelemetry('projector')), {
      minRecords: 2,
    });
    poller.rewind();
    const clean = instrumentedPorts(stack);
    await poller.drain(createProjectorHandler(clean.ports, createTelemetry('projector')), { minRecords: 2 });
    poller.destroy();
    lossy.destroy();
    clean.destroy();
    expect(lossy.log.calls).toContain('BatchExecuteStatement');
    expect(clean.log.calls.filter((c) => c === 'SendMessageBatch')).toHaveLength(2);

    const falMessages = await receiveAll(stack.queues.fal, { expected: 1 });
    const replicateMessages = await receiveAll(stack.queues.replicate, { expected: 1 });
    expect(falMessages.map((m) => m.attributes.dispatchId)).toEqual([`${fal.jobId}:v1`]);
    expect(replicateMessages.map((m) => m.attributes.dispatchId)).toEqual([`${replicate.jobId}:v1`]);
  });
});
