/**
 * `routing-manager submit` in-process against a mocked EventBridge: batching, per-entry failures,
 * a call that fails as a whole, bad files. The emulator run is in tests/integration/live-stack.int.spec.ts.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { PUT_EVENTS_MAX_BYTES } from '../../src/batching/aws-batch-limits.ts';
import { runCli } from '../../src/cli/main.ts';
import { STACK_EVENT_PATTERNS } from '../../src/cli/verbs/submit.ts';
import { readTemplate } from '../../src/template/cloudformation-template.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const events = mockClient(EventBridgeClient);
beforeEach(() => events.reset());
afterAll(removeEventDirectories);

function anOperator(env: Record<string, string> = {}) {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const run = (...argv: string[]) =>
    runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: { AWS_REGION: 'eu-west-1', ...env } });
  return { run, stdout, stderr };
}

/** PutEvents accepting every entry, with ids e-<n> in call order. */
function acceptingAll() {
  let n = 0;
  events.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map(() => ({ EventId: `e-${++n}` })),
  }));
}

/** An AWS config file with profile `ops` (the CLI checks a named profile exists). */
async function aConfigFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'submit-profile-'));
  const path = join(dir, 'config');
  await writeFile(
    path,
    '[profile ops]\nregion = eu-central-1\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n',
  );
  return path;
}

const sentEntries = () =>
  events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

describe('routing-manager submit', () => {
  it('given 12 bare details in a file, when submitted, then two PutEvents calls put them on $EVENT_BUS_NAME as frontend.api submissions', async () => {
    acceptingAll();
    const details = Array.from({ length: 12 }, () => aSubmissionDetail());
    const directory = await anEventDirectory({ 'jobs.json': details });
    const operator = anOperator({ EVENT_BUS_NAME: 'routing-local' });
    expect(await operator.run('submit', join(directory, 'jobs.json'))).toBe(0);
    const calls = sentEntries();
    expect(calls.map((entries) => entries.length)).toEqual([10, 2]);
    expect(calls[0]?.[0]).toEqual({
      EventBusName: 'routing-local',
      Source: 'frontend.api',
      DetailType: 'video.job.submitted',
      Detail: JSON.stringify(details[0]),
    });
    const [header, , first] = operator.stdout.lines();
    expect(header?.split(/\s{2,}/)).toEqual(['event', 'jobId', 'eventId', 'result']);
    expect(first?.split(/\s{2,}/)).toEqual(['jobs.json[0]', details[0]?.jobId, 'e-1', 'put']);
    expect(operator.stderr.lines()).toEqual(['put 12 of 12 event(s) on bus routing-local']);
  });

  it('given an envelope of another kind and --event-bus, when submitted, then its own source and detail-type are kept', async () => {
    acceptingAll();
    const envelope = aSubmittedEvent(
      { providerJobId: 'p-1' },
      { source: 'fal.invoker', 'detail-type': 'video.job.status' },
    );
    const directory = await anEventDirectory({ 'status.json': envelope });
    const operator = anOperator();
    expect(
      await operator.run('submit', '--event-bus', 'other', '--json', join(directory, 'status.json')),
    ).toBe(0);
    expect(sentEntries()[0]?.[0]).toMatchObject({
      EventBusName: 'other',
      Source: 'fal.invoker',
      DetailType: 'video.job.status',
    });
    expect(operator.stdout.jsonLines()).toEqual([
      { origin: join(directory, 'status.json'), jobId: null, eventId: 'e-1', error: null },
    ]);
  });

  it('given one entry refused, one too large and the rest accepted, when submitted, then each is reported alone and it exits 1', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'e-1' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const huge = aSubmissionDetail({ prompt: 'x'.repeat(PUT_EVENTS_MAX_BYTES) });
    const directory = await anEventDirectory({
      'mixed.json': [aSubmissionDetail(), huge, aSubmissionDetail()],
    });
    const operator = anOperator();
    expect(await operator.run('submit', '--json', join(directory, 'mixed.json'))).toBe(1);
    expect(sentEntries().map((entries) => entries.length)).toEqual([2]);
    const results = operator.stdout.jsonLines() as { eventId: string | null; error: string | null }[];
    expect(results.map((r) => r.eventId)).toEqual(['e-1', null, null]);
    expect(results[1]?.error).toMatch(/^too large: \d+ bytes, PutEvents takes at most 262144$/);
    expect(results[2]?.error).toBe('InternalFailure: try again');
    expect(operator.stderr.lines()).toEqual(['put 1 of 3 event(s) on bus default']);
  });

  it('given a call throttled past the retries, when submitted, then its entries fail with the reason and the next call is still made', async () => {
    events
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-11' }] });
    const directory = await anEventDirectory({
      'many.json': Array.from({ length: 11 }, () => aSubmissionDetail()),
    });
    const operator = anOperator();
    expect(await operator.run('submit', '--json', join(directory, 'many.json'))).toBe(1);
    const results = operator.stdout.jsonLines() as { error: string | null }[];
    expect(results.slice(0, 10).every((r) => r.error === 'ThrottlingException: Rate exceeded')).toBe(true);
    expect(results[10]).toMatchObject({ eventId: 'e-11', error: null });
  });

  it.each([
    [
      'no connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      /cannot connect to http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): is the local stack running\?/,
    ],
    [
      'refused credentials',
      Object.assign(new Error('The security token is invalid'), { name: 'UnrecognizedClientException' }),
      /AWS refused the credentials \(UnrecognizedClientException/,
    ],
  ])(
    'given %s, when 110 submissions are put, then it stops at the first call with the usual hint, exit 1, no rows',
    async (_case, failure, hint) => {
      events.on(PutEventsCommand).rejects(failure);
      const directory = await anEventDirectory({
        'many.json': Array.from({ length: 110 }, () => aSubmissionDetail()),
      });
      const operator = anOperator();
      expect(
        await operator.run('--endpoint-url', 'http://127.0.0.1:1', 'submit', join(directory, 'many.json')),
      ).toBe(1);
      expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
      expect(operator.stdout.text()).toBe('');
      expect(operator.stderr.text()).toContain('stopped after putting 0 of 110 event(s) on bus default');
      expect(operator.stderr.text()).toMatch(hint);
    },
  );

  it('given --endpoint-url and --profile, when submitted, then the client is built with them like every verb', async () => {
    acceptingAll();
    const directory = await anEventDirectory({ 'job.json': aSubmissionDetail() });
    const operator = anOperator({ AWS_CONFIG_FILE: await aConfigFile() });
    expect(
      await operator.run(
        '--profile',
        'ops',
        '--endpoint-url',
        'http://127.0.0.1:4566',
        'submit',
        join(directory, 'job.json'),
      ),
    ).toBe(0);
    const calls = events.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const client = calls[0]?.thisValue as EventBridgeClient;
    const { config } = client;
    expect(config.profile).toBe('ops');
    expect((await config.endpoint?.())?.hostname).toBe('127.0.0.1');
  });

  it('given a misspelt detail-type, when submitted, then it warns that no rule of the stack matches it', async () => {
    acceptingAll();
    const directory = await anEventDirectory({
      'typo.json': aSubmittedEvent(aSubmissionDetail(), { 'detail-type': 'video.job.submited' }),
    });
    const operator = anOperator();
    expect(await operator.run('submit', join(directory, 'typo.json'))).toBe(0);
    expect(operator.stderr.text()).toContain(
      'warning: 1 event(s) with source / detail-type "frontend.api / video.job.submited" match no rule of the stack',
    );
  });

  it('given the stack template, then its rules match exactly the source / detail-types submit knows', async () => {
    const resources = readTemplate().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    const patterns = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Events::Rule')
      .map((resource) => resource.Properties?.EventPattern as { source: string[]; 'detail-type'?: string[] })
      .filter((pattern) => pattern?.source);
    const fromTemplate = Object.fromEntries(
      patterns.map((p) => [p.source[0], p['detail-type'] ? [...p['detail-type']].sort() : 'any']),
    );
    expect(fromTemplate).toEqual(
      Object.fromEntries(
        Object.entries(STACK_EVENT_PATTERNS).map(([source, types]) => [
          source,
          types === 'any' ? 'any' : [...types].sort(),
        ]),
      ),
    );
  });

  it('given a file that is not JSON, when submitted, then it exits 2 naming the file and puts nothing', async () => {
    const directory = await anEventDirectory({ 'broken.json': '{"jobId": ' });
    const operator = anOperator();
    expect(await operator.run('submit', join(directory, 'broken.json'))).toBe(2);
    expect(operator.stderr.text()).toMatch(/broken\.json:1:11: not JSON: value expected/);
    expect(sentEntries()).toEqual([]);
  });

  it('given an empty array, when submitted, then it exits 2 saying there is nothing to submit', async () => {
    const directory = await anEventDirectory({ 'none.json': [] });
    const operator = anOperator();
    expect(await operator.run('submit', join(directory, 'none.json'))).toBe(2);
    expect(operator.stderr.text()).toMatch(/no submissions in the files given/);
  });

  it('given the global --region, when submitted, then the submission is put', async () => {
    acceptingAll();
    const directory = await anEventDirectory({ 'job.json': aSubmissionDetail() });
    const operator = anOperator();
    expect(await operator.run('--region', 'ap-south-1', 'submit', join(directory, 'job.json'))).toBe(0);
    expect(sentEntries()).toHaveLength(1);
  });
});
