/**
 * The projector's erasure check for a fresh decision, on DynamoDB Local and moto: the write that
 * retains the job's content (a PartiQL INSERT, which never overwrites) is the check, so a first
 * delivery reads nothing from the content table (nor a completion marker: no delivery acted on it
 * before), a decision delivered again after `forget` erased its job meets the erasure marker there
 * and sends nothing (docs/DATA_PROTECTION.md), and one delivered again after partial progress reads
 * its marker and repeats nothing it recorded.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbContentVault } from '../../src/aws/dynamodb-content-vault.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { createRouterHandler } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { type ProtectedProjectorPorts, projectWithContent } from '../../src/projections/content-retention.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { instrumentedPorts, readJob, receiveAll } from '../support/local-aws.ts';
import { silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { routerPortsOn } from '../support/stack-router.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;
const documents = createDocumentClient();
let route: (detail: Record<string, unknown>) => Promise<unknown>;

/** The content store on a client of its own whose commands are listed: what the store asked DynamoDB. */
function countedStore(): { store: DynamoDbContentVault; calls: string[]; destroy: () => void } {
  const calls: string[] = [];
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push((context.commandName ?? 'Unknown').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countContentCalls' },
  );
  return {
    store: new DynamoDbContentVault(client, stack.tables.content),
    calls,
    destroy: () => client.destroy(),
  };
}

/** The real projector step over real adapters, its content store counted; `fault` fails a command. */
async function project(record: RoutingLogRecord, fault?: { command: string; timing: 'before' | 'after' }) {
  const instrumented = instrumentedPorts(stack, fault ? { fault } : {});
  const counted = countedStore();
  const ports: ProtectedProjectorPorts = {
    ...instrumented.ports,
    content: { ...instrumented.ports.content, store: counted.store },
  };
  try {
    const [outcome] = await projectWithContent([record], ports);
    return { outcome, contentCalls: counted.calls };
  } finally {
    counted.destroy();
    instrumented.destroy();
  }
}

async function decisionOf(jobId: string): Promise<RoutingLogRecord> {
  const [decision] = await new DynamoDbRoutingLog(documents, stack.tables.routingLog).readStream(
    `job#${jobId}`,
  );
  if (!decision) throw new Error(`no decision for ${jobId}`);
  return decision;
}

const sentFor = async (jobId: string) =>
  (await receiveAll(stack.queues.fal, { expected: 0, timeoutMs: 5_000 }))
    .map((m) => JSON.parse(m.body) as Record<string, unknown>)
    .filter((body) => body.jobId === jobId);

beforeAll(async () => {
  stack = await aProvisionedStack();
  silenceHandlerTelemetry();
  const router = createRouterHandler(routerPortsOn(stack, documents), createTelemetry('router'));
  route = (detail) => router(aSubmittedEvent(detail), aLocalLambdaContext());
});

afterAll(() => documents.destroy());

describe('given a routed job whose decision reaches the projector for the first time', () => {
  it('when projected, then the job is dispatched and its content retained, with no read of the content table', async () => {
    const job = aSubmissionDetail({ userId: 'dora-2', prompt: 'a paper boat', provider: 'fal' });
    await route(job);
    const { outcome, contentCalls } = await project(await decisionOf(job.jobId as string));
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(contentCalls).toEqual(['BatchExecuteStatement']);
    expect((await sentFor(job.jobId as string)).map((body) => body.prompt)).toEqual(['a paper boat']);
    const stored = await new DynamoDbContentVault(documents, stack.tables.content).read([`job#${job.jobId}`]);
    expect(stored.get(`job#${job.jobId}`)).toMatchObject({ userId: 'dora-2' });
  });
});

describe('given a job whose first projection retained its content but could not dispatch it', () => {
  const job = aSubmissionDetail({ userId: 'emil-3', prompt: 'a glass harbour', provider: 'fal' });
  let decision: RoutingLogRecord;

  beforeAll(async () => {
    await route(job);
    decision = await decisionOf(job.jobId as string);
    const first = await project(decision, { command: 'SendMessageBatch', timing: 'before' });
    expect(first.outcome).toMatchObject({ ok: false, effects: { dispatch: 'failed' } });
  });

  it('when forget erases the user and the decision is delivered again, then nothing is sent, the erasure marker stays, and the content table was read only for the refused write', async () => {
    const stdout = aCapturedOutput();
    const io: CliIo = {
      stdout: stdout.stream,
      stderr: aCapturedOutput().stream,
      env: { ...process.env, USER: 'dpo' },
      now: () => new Date(),
    };
    const code = await runCli(
      ['--stage', stack.stage, 'forget', '--user', 'emil-3', '--why', 'ticket 9', '--json'],
      io,
    );
    expect(code).toBe(0);
    expect(stdout.jsonLines()[0]).toMatchObject({ found: 1, erased: 1 });

    const again = await project(decision);
    expect(again.outcome).toMatchObject({
      ok: true,
      effects: { dispatch: 'not_applicable', announce: 'not_applicable', status: 'not_applicable' },
    });
    expect(again.contentCalls).toEqual(['BatchExecuteStatement', 'BatchGetItem']);
    expect(await sentFor(job.jobId as string)).toEqual([]);
    const stored = await new DynamoDbContentVault(documents, stack.tables.content).read([`job#${job.jobId}`]);
    expect(stored.get(`job#${job.jobId}`)).toEqual({ id: `job#${job.jobId}`, erased: true });
  });
});

describe('given a sealed decision whose first delivery dispatched and announced it but could not write its Jobs status', () => {
  const job = aSubmissionDetail({ userId: 'fay-4', prompt: 'a tin lantern', provider: 'fal' });
  let decision: RoutingLogRecord;

  beforeAll(async () => {
    await route(job);
    decision = await decisionOf(job.jobId as string);
    const first = await project(decision, { command: 'BatchExecuteStatement', timing: 'before' });
    expect(first.outcome).toMatchObject({
      ok: false,
      effects: { dispatch: 'done', announce: 'done', status: 'failed' },
    });
  });

  it('when delivered again, then its completion marker is read: it is neither dispatched nor announced again, and its status is written', async () => {
    const again = await project(decision);
    expect(again.outcome).toMatchObject({
      ok: true,
      effects: { dispatch: 'skipped', announce: 'skipped', status: 'done' },
    });
    expect((await sentFor(job.jobId as string)).map((body) => body.dispatchId)).toEqual([`${job.jobId}:v1`]);
    expect(await readJob(stack, job.jobId as string)).toMatchObject({ status: 'ROUTED' });
  });
});
