/**
 * User content protection on the emulators (docs/DATA_PROTECTION.md): the real router seals the
 * content into the log record, the real projector (fed by the stream poller) dispatches the whole
 * job and retains the content, and the operator CLI hides it, erases it per user and withholds it
 * from replays once it is erased or expired.
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbContentVault } from '../../src/aws/dynamodb-content-vault.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { keyHourOf } from '../../src/content/sealed-content.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { createRouterHandler } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { handlerEnvironment } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import { recordFromItem } from '../../src/log/stored-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { receiveAll } from '../support/local-aws.ts';
import { silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { routerPortsOn } from '../support/stack-router.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const DAY = 86_400_000;
let stack: LocalStack;
let poller: DynamoDbStreamPoller;
const documents = createDocumentClient();
/** The time of the router, the projector and the CLI: the test moves it. */
let clock = new Date();
let route: (detail: Record<string, unknown>) => Promise<unknown>;
let project: () => Promise<unknown>;

async function cli(...argv: string[]) {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const io: CliIo = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...process.env, USER: 'dpo' },
    now: () => clock,
  };
  const code = await runCli(['--stage', stack.stage, ...argv], io);
  return { code, stdout, stderr, json: () => stdout.jsonLines()[0] as Record<string, unknown> };
}

/** The bodies on a queue (each received once: a second receive does not see them again). */
const bodiesOn = async (queueUrl: string, expected: number) =>
  (await receiveAll(queueUrl, { expected })).map((m) => JSON.parse(m.body) as Record<string, unknown>);

const streamOf = (jobId: string) =>
  new DynamoDbRoutingLog(documents, stack.tables.routingLog).readStream(`job#${jobId}`);

beforeAll(async () => {
  stack = await aProvisionedStack();
  silenceHandlerTelemetry();
  const router = createRouterHandler(
    routerPortsOn(stack, documents, {
      now: () => clock,
    }),
    createTelemetry('router'),
  );
  const projector = createProjectorHandler(
    { ...projectorPorts(loadProjectorConfig(handlerEnvironment(stack))), now: () => clock },
    createTelemetry('projector'),
  );
  poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  route = (detail) => router(aSubmittedEvent(detail), aLocalLambdaContext());
  project = () => poller.drain(projector, { timeoutMs: 20_000 });
});

afterAll(() => {
  poller?.destroy();
  documents.destroy();
});

describe('given jobs routed and projected', () => {
  const alice = aSubmissionDetail({ userId: 'alice-7', prompt: 'a lighthouse at dawn', provider: 'fal' });
  const alice2 = aSubmissionDetail({ userId: 'alice-7', prompt: 'a fox in snow', provider: 'fal' });
  const bob = aSubmissionDetail({ userId: 'bob-9', prompt: 'a red kite', provider: 'fal' });
  const since = new Date(Date.now() - 60_000).toISOString();

  beforeAll(async () => {
    clock = new Date();
    for (const detail of [alice, alice2, bob]) await route(detail);
    await project();
  });

  it('then the log item holds neither prompt nor user id, while the provider message holds the whole job and the content is retained', async () => {
    const { Item } = await documents.send(
      new GetCommand({
        TableName: stack.tables.routingLog,
        Key: { stream: `job#${alice.jobId}`, version: 1 },
      }),
    );
    // The item in its stored form (src/log/stored-records.ts), read back as the record it holds.
    expect(recordFromItem(Item ?? {})).toMatchObject({
      type: 'RoutingDecided',
      data: {
        content: {
          keyId: expect.stringMatching(new RegExp(`^transit#${keyHourOf(clock).hour}#[0-9a-f]{12}$`)),
        },
      },
      metadata: { payloadHash: expect.stringMatching(/^k1:[A-Za-z0-9_-]{43}$/) },
    });
    expect(JSON.stringify(Item)).not.toMatch(/lighthouse|alice-7/);
    const bodies = await bodiesOn(stack.queues.fal, 3);
    expect(bodies.find((body) => body.jobId === alice.jobId)).toMatchObject({
      userId: 'alice-7',
      prompt: 'a lighthouse at dawn',
    });
    const retained = await new DynamoDbContentVault(documents, stack.tables.content).read([
      `job#${alice.jobId}`,
    ]);
    expect(retained.get(`job#${alice.jobId}`)).toMatchObject({
      userId: 'alice-7',
      expiresAt: Math.floor(Date.parse((Item as { recordedAt: string }).recordedAt) / 1000) + 30 * 86_400,
    });
  });

  it('when history is asked, then the content is hidden unless --show-content asks for it', async () => {
    const hidden = await cli('history', alice.jobId as string, '--json');
    expect(hidden.code).toBe(0);
    expect(hidden.json().content).toEqual({ status: 'hidden' });
    expect(hidden.stdout.text()).not.toMatch(/lighthouse|alice-7/);
    expect((await cli('history', alice.jobId as string)).stdout.text()).toMatch(/content: hidden/);
    const shown = await cli('history', alice.jobId as string, '--json', '--show-content');
    expect(shown.json().content).toMatchObject({
      status: 'retained',
      job: { userId: 'alice-7', prompt: 'a lighthouse at dawn' },
    });
  });

  it('when a user is forgotten, then each of their jobs records the erasure without content, their content is gone, and a second run changes nothing', async () => {
    const first = await cli('forget', '--user', 'alice-7', '--why', 'GDPR request #4711', '--json');
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ found: 2, erased: 2, alreadyErased: 0, failed: 0 });
    for (const detail of [alice, alice2]) {
      const stream = await streamOf(detail.jobId as string);
      expect(stream.map((r) => r.type)).toEqual(['RoutingDecided', 'ContentErased']);
      expect(stream[1]).toMatchObject({ data: { why: 'GDPR request #4711', requestedBy: 'dpo' } });
      expect(JSON.stringify(stream)).not.toMatch(/alice-7|lighthouse|fox in snow/);
    }
    const vault = new DynamoDbContentVault(documents, stack.tables.content);
    expect(await vault.idsOfUser('alice-7')).toEqual([]);
    expect(await vault.idsOfUser('bob-9')).toEqual([`job#${bob.jobId}`]);
    await project(); // the ContentErased records reach the projector: it deletes again, sends nothing

    const again = await cli('forget', '--user', 'alice-7', '--why', 'GDPR request #4711', '--json');
    expect(again.json()).toMatchObject({ found: 0, erased: 0 });
    expect(await streamOf(alice.jobId as string)).toHaveLength(2);
    expect((await cli('history', alice.jobId as string, '--show-content')).stdout.text()).toMatch(
      /ContentErased {2}user content erased[\s\S]*GDPR request #4711[\s\S]*content: erased/,
    );
  });

  it('when the window is replayed after the erasure, then the erased jobs send nothing and say why, the others are re-sent', async () => {
    const until = new Date(Date.now() + 60_000).toISOString();
    const replay = await cli(
      'replay',
      '--incident',
      'INC-77',
      '--provider',
      'fal',
      '--since',
      since,
      '--until',
      until,
      '--why',
      'fal lost messages',
      '--json',
    );
    expect(replay.code).toBe(0);
    expect(replay.json()).toMatchObject({ appended: 3, contentWithheld: 2 });
    expect((await streamOf(alice.jobId as string))[2]).toMatchObject({
      type: 'ProjectionReplayRequested',
      data: { contentWithheld: 'content_erased' },
    });
    await project();
    // One receive for the whole queue: a message received once is invisible to a second receive.
    const sent = await bodiesOn(stack.queues.fal, 1);
    expect(sent.filter((body) => body.userId === 'alice-7')).toEqual([]);
    expect(sent).toEqual([expect.objectContaining({ prompt: 'a red kite', dispatchId: `${bob.jobId}:v2` })]);
    expect((await cli('history', alice.jobId as string)).stdout.text()).toMatch(
      /sent nothing: content erased/,
    );
  });
});

describe('given a job routed longer ago than the retention', () => {
  const old = aSubmissionDetail({ userId: 'carol-1', prompt: 'an old prompt', provider: 'fal' });
  const routedAt = new Date(Date.now() - 40 * DAY);

  beforeAll(async () => {
    clock = routedAt;
    await route(old);
    await project();
    clock = new Date();
  });

  it('when its window is replayed, then it sends nothing and records content_expired', async () => {
    const window = [
      '--since',
      new Date(routedAt.getTime() - 60_000).toISOString(),
      '--until',
      new Date(routedAt.getTime() + 60_000).toISOString(),
    ];
    const replay = await cli(
      'replay',
      '--incident',
      'INC-78',
      '--provider',
      'fal',
      ...window,
      '--why',
      'late',
      '--json',
    );
    expect(replay.json()).toMatchObject({ appended: 1, contentWithheld: 1 });
    expect((await streamOf(old.jobId as string))[1]).toMatchObject({
      data: { contentWithheld: 'content_expired' },
    });
    await project();
    // The original dispatch only, no second one.
    expect((await bodiesOn(stack.queues.fal, 1)).map((body) => body.dispatchId)).toEqual([`${old.jobId}:v1`]);
    expect((await cli('history', old.jobId as string, '--show-content', '--json')).json().content).toEqual({
      status: 'expired',
    });
  });
});
