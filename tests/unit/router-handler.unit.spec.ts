import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRouterHandler } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { inMemoryContentPorts } from '../support/content.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
// KMS as the router meets it: one data key and one MAC per container and hour.
const kms = mockClient(KMSClient);

/** The appends to the routing log (the first put of a container creates the hour's transit key). */
const logPuts = () =>
  dynamodb.commandCalls(PutCommand).filter((call) => call.args[0].input.TableName === 'RoutingLog-test');

async function loadRouter() {
  vi.resetModules();
  return (await import('../../src/lambda/router.ts')).handler;
}

/**
 * A freshly loaded router that has decided `detail` once: from then on the log's conditional put
 * refuses, returning the stored item, as DynamoDB does for a redelivery.
 */
async function aRouterThatDecided(detail: Record<string, unknown>) {
  const handler = await loadRouter();
  dynamodb.on(PutCommand).resolvesOnce({});
  await handler(aSubmittedEvent(detail), aLocalLambdaContext());
  const stored = logPuts()[0]?.args[0].input.Item as Record<string, unknown>;
  dynamodb
    .on(PutCommand, { TableName: 'RoutingLog-test' })
    .rejects(
      new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(stored) }),
    );
  return handler;
}

describe('router handler', () => {
  beforeEach(() => {
    dynamodb.reset();
    kms.reset();
    kms.on(GenerateDataKeyCommand).resolves({
      Plaintext: new Uint8Array(32).fill(7),
      CiphertextBlob: new Uint8Array(64).fill(9),
    });
    kms.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(32).fill(5) });
    // No rules were ever published: the bundled default table decides.
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    vi.stubEnv('STAGE', 'test');
    vi.stubEnv('EVENT_LOG_TABLE', 'RoutingLog-test');
    vi.stubEnv('CREDITS_TABLE', 'Credits-test');
    vi.stubEnv('CONTENT_TABLE', 'RoutingContent-test');
    vi.stubEnv('CONTENT_KMS_KEY_ID', 'alias/routing-manager-content-test');
    vi.stubEnv('PAYLOAD_HASH_KMS_KEY_ID', 'alias/routing-manager-payload-hash-test');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('given a routable event, when invoked, then it appends the decision with a conditional put and reads no credits', async () => {
    dynamodb.on(PutCommand).resolves({});
    const handler = await loadRouter();
    const response = await handler(
      aSubmittedEvent(aSubmissionDetail({ jobId: 'job-1' })),
      aLocalLambdaContext(),
    );
    expect(response).toEqual({
      outcome: 'recorded',
      stream: 'job#job-1',
      jobId: 'job-1',
      decision: 'routed',
      provider: 'fal',
      reason: null,
    });
    const put = logPuts()[0]?.args[0].input;
    expect(put).toMatchObject({
      TableName: 'RoutingLog-test',
      ConditionExpression: 'attribute_not_exists(#stream)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      Item: { stream: 'job#job-1', version: 1, type: 'RoutingDecided' },
    });
    expect(dynamodb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('given many events in one hour, when invoked, then KMS is called once for the data key and once for the hash key, never per job', async () => {
    dynamodb.on(PutCommand).resolves({});
    const handler = await loadRouter();
    for (let i = 0; i < 20; i++)
      await handler(aSubmittedEvent(aSubmissionDetail({ jobId: `job-k${i}` })), aLocalLambdaContext());
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(GenerateMacCommand)).toHaveLength(1);
    const stage = kms.commandCalls(GenerateDataKeyCommand)[0]?.args[0].input.EncryptionContext;
    expect(stage).toMatchObject({ stage: 'test', keyId: expect.stringMatching(/^transit#/) });
    const keyItem = dynamodb
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input.Item as Record<string, unknown>)
      .find((item) => String(item.id).startsWith('transit#'));
    expect(keyItem).toEqual({
      id: expect.any(String),
      wrapped: new Uint8Array(64).fill(9),
      expiresAt: expect.any(Number),
    });
  });

  it('given a job already decided with the same payload, when invoked, then it reports a duplicate without writing', async () => {
    const detail = aSubmissionDetail({ jobId: 'job-2' });
    const handler = await aRouterThatDecided(detail);
    const response = await handler(aSubmittedEvent(detail), aLocalLambdaContext());
    expect(response).toMatchObject({ outcome: 'duplicate', decision: 'routed', provider: 'fal' });
  });

  it('given a redelivered job, when invoked, then its one line is the Duplicates metric keyed by the jobId: no log line of its own, no user content', async () => {
    const detail = aSubmissionDetail({ jobId: 'job-6', prompt: 'secret prompt text' });
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'RoutingManager');
    const handler = await aRouterThatDecided(detail);
    const log = vi.spyOn(console, 'log');
    const info = vi.spyOn(console, 'info');
    log.mockClear();
    info.mockClear();
    await handler(aSubmittedEvent(detail), aLocalLambdaContext());
    const lines = [...log.mock.calls, ...info.mock.calls]
      .flat()
      .filter((l): l is string => typeof l === 'string');
    expect(lines).toHaveLength(1);
    const { _aws, ...fields } = JSON.parse(lines[0] as string);
    expect(_aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'Duplicates', Unit: 'Count' }]);
    expect(fields).toEqual({ jobId: 'job-6', service: 'routing-manager', stage: 'test', Duplicates: 1 });
  });

  it('given a job already decided with another payload, when invoked, then it warns about a conflicting duplicate', async () => {
    const handler = await aRouterThatDecided(aSubmissionDetail({ jobId: 'job-3' }));
    const warn = vi.spyOn(console, 'warn');
    const response = await handler(
      aSubmittedEvent(aSubmissionDetail({ jobId: 'job-3', lengthSec: 60 })),
      aLocalLambdaContext(),
    );
    expect(response).toMatchObject({ outcome: 'conflicting_duplicate', decision: 'routed' });
    expect(warn.mock.calls.flat().join(' ')).toMatch(/conflicting duplicate/);
  });

  it('given an invalid event, when invoked, then it records a rejection, logs its facts on the decision metric line and no prompt text', async () => {
    dynamodb.on(PutCommand).resolves({});
    const info = vi.spyOn(console, 'info');
    const log = vi.spyOn(console, 'log');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'RoutingManager');
    const handler = await loadRouter();
    const response = await handler(
      aSubmittedEvent(aSubmissionDetail({ jobId: 'job-4', prompt: 'secret prompt text', lengthSec: 0 })),
      aLocalLambdaContext(),
    );
    expect(response).toMatchObject({ decision: 'rejected', reason: 'invalid_request', provider: null });
    const logged = [...info.mock.calls, ...log.mock.calls].flat().join(' ');
    expect(logged).toMatch(/"Decisions":1/);
    expect(logged).toMatch(/"jobId":"job-4"/);
    expect(logged).not.toMatch(/secret prompt text/);
    // Not the stream (`job#<jobId>`): logs are billed per byte ingested, and it repeats the jobId.
    expect(logged).not.toMatch(/"stream":/);
  });

  it('given a routed job, when invoked, then its decision line carries only the key and dimensions: no rules version, model, rule, eventId or user content', async () => {
    dynamodb.on(PutCommand).resolves({});
    const log = vi.spyOn(console, 'log');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'RoutingManager');
    const handler = await loadRouter();
    const event = aSubmittedEvent(aSubmissionDetail({ jobId: 'job-5', prompt: 'secret prompt text' }));
    await handler(event, aLocalLambdaContext());
    const lines = log.mock.calls.flat().filter((line): line is string => typeof line === 'string');
    const decision = lines.map((line) => JSON.parse(line)).find((line) => line.Decisions === 1);
    const { _aws, ...fields } = decision;
    expect(fields).toEqual({
      jobId: 'job-5',
      service: 'routing-manager',
      stage: 'test',
      outcome: 'routed',
      provider: 'fal',
      reason: 'none',
      Decisions: 1,
    });
    expect(lines.join(' ')).not.toMatch(
      /secret prompt text|user-|"model"|"matchedRule"|"eventId"|"rulesVersion"/,
    );
  });

  it('given an event without a jobId, when invoked, then its decision line is keyed by the eventId', async () => {
    dynamodb.on(PutCommand).resolves({});
    const log = vi.spyOn(console, 'log');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'RoutingManager');
    const handler = await loadRouter();
    const event = aSubmittedEvent(aSubmissionDetail({ jobId: undefined }));
    await handler(event, aLocalLambdaContext());
    const decision = log.mock.calls
      .flat()
      .filter((line): line is string => typeof line === 'string')
      .map((line) => JSON.parse(line))
      .find((line) => line.Decisions === 1);
    expect(decision).toMatchObject({ eventId: event.id, outcome: 'rejected', reason: 'invalid_request' });
    expect(decision).not.toHaveProperty('jobId');
  });

  it('given DynamoDB fails, when invoked, then the error propagates so EventBridge retries and dead-letters', async () => {
    dynamodb.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    const handler = await loadRouter();
    await expect(handler(aSubmittedEvent(), aLocalLambdaContext())).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
  });

  it('given a missing table variable, when the function starts, then the cold start fails naming it', async () => {
    vi.stubEnv('EVENT_LOG_TABLE', undefined as unknown as string);
    await expect(loadRouter()).rejects.toThrow(
      /Invalid router configuration: missing environment variable\(s\): EVENT_LOG_TABLE/,
    );
  });
  it('given the published rules cannot be read, when invoked, then the bundled default decides, the record says so and the failure is logged without content', async () => {
    dynamodb.on(QueryCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    dynamodb.on(PutCommand).resolves({});
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = await loadRouter();
    await handler(aSubmittedEvent(aSubmissionDetail({ jobId: 'job-9' })), aLocalLambdaContext());
    const put = dynamodb
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.TableName === 'RoutingLog-test');
    expect(put?.Item).toMatchObject({ provider: 'fal', explanation: { rulesRead: 'fallback' } });
    expect(errors.mock.calls.flat().join('\n')).toContain('could not read the published rules');
  });
});

describe('router metrics', () => {
  it('given a rejection, when invoked, then one Decisions metric carries outcome, provider and reason', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('STAGE', 'test');
    vi.stubEnv('EVENT_LOG_TABLE', 'RoutingLog-test');
    vi.stubEnv('CREDITS_TABLE', 'Credits-test');
    vi.stubEnv('CONTENT_TABLE', 'RoutingContent-test');
    vi.stubEnv('CONTENT_KMS_KEY_ID', 'alias/routing-manager-content-test');
    vi.stubEnv('PAYLOAD_HASH_KMS_KEY_ID', 'alias/routing-manager-payload-hash-test');
    vi.resetModules();
    const { createTelemetry } = await import('../../src/observability/telemetry.ts');
    const { InMemoryRoutingLog } = await import('../../src/memory/in-memory-routing-log.ts');
    const { InMemoryCreditBalances } = await import('../../src/memory/in-memory-credit-balances.ts');
    const { defaultRoutingTable } = await import('../../src/routing/default-table.ts');
    const { InMemoryContentVault } = await import('../../src/memory/in-memory-content-vault.ts');
    const telemetry = createTelemetry('router', 'test');
    const dimensions = vi.spyOn(telemetry.metrics, 'addDimensions');
    const metric = vi.spyOn(telemetry.metrics, 'addMetric');
    const handler = createRouterHandler(
      {
        log: new InMemoryRoutingLog(),
        credits: new InMemoryCreditBalances(),
        table: defaultRoutingTable,
        ...inMemoryContentPorts(new InMemoryContentVault()),
        now: () => new Date('2026-11-25T10:00:00Z'),
        newId: () => 'id',
      },
      telemetry,
    );
    await handler(aSubmittedEvent(aSubmissionDetail({ resolution: '4k' })), aLocalLambdaContext());
    expect(dimensions).toHaveBeenCalledWith({ outcome: 'rejected', provider: 'none', reason: 'no_route' });
    expect(metric.mock.calls.map(([name]) => name)).toEqual(['Decisions']);
    vi.unstubAllEnvs();
  });
});
