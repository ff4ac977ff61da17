/**
 * The operator CLI's global options and input checks: accepted before or after the command, the
 * AWS habits (profile, region, endpoint, output), and every bad input refused with exit 2 and the
 * allowed values before any AWS call.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CredentialsProviderError } from '@smithy/core/config';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { CliContext } from '../../src/cli/cli-context.ts';
import { failureOf } from '../../src/cli/failures.ts';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { EXIT_CODES } from '../../src/exit-codes.ts';
import { RULES_RECORD_SCHEMA_VERSION } from '../../src/log/rules-records.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { serveTables } from '../support/fake-document-tables.ts';
import { aNoRouteRecord, aRoutedRecord } from '../support/records.ts';

const documents = mockClient(DynamoDBDocumentClient);
beforeEach(() => documents.reset());
afterEach(() => documents.reset());

const NO_AWS_FILES = {
  AWS_CONFIG_FILE: '/no/such/config',
  AWS_SHARED_CREDENTIALS_FILE: '/no/such/credentials',
};
const THAT_DAY = ['--since', '2026-11-25', '--until', '2026-11-26'];

function anOperator(env: Record<string, string> = { AWS_REGION: 'eu-west-1' }) {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const io: CliIo = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...NO_AWS_FILES, ...env },
    now: () => new Date('2026-11-27T12:00:00.000Z'),
  };
  return { run: (...argv: string[]) => runCli(argv, io), stdout, stderr, io };
}

function aRulesFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'table.json');
  writeFileSync(file, JSON.stringify(defaultRoutingTable));
  return file;
}

const queriedTables = () => documents.commandCalls(QueryCommand).map((call) => call.args[0].input.TableName);

describe('global options, before or after the command', () => {
  it.each([
    ['before', ['--stage', 'prod', '--output', 'json', 'decisions', '--provider', 'fal', ...THAT_DAY]],
    ['after', ['decisions', '--provider', 'fal', ...THAT_DAY, '--stage', 'prod', '--output', 'json']],
    ['mixed, with --json', ['--stage', 'prod', 'decisions', '--json', '--provider', 'fal', ...THAT_DAY]],
  ])('given --stage and the output format %s the command, when run, then both apply', async (_, argv) => {
    const routed = aRoutedRecord();
    serveTables(documents, { log: [routed] });
    const operator = anOperator();
    expect(await operator.run(...argv)).toBe(0);
    expect(new Set(queriedTables())).toEqual(new Set(['RoutingLog-prod']));
    expect(operator.stdout.jsonLines()).toMatchObject([{ jobId: routed.metadata.jobId }]);
  });

  it("given --output json, when a command with its own --json flag runs, then the command's flag is set", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const file = join(dir, 'table.json');
    writeFileSync(file, '{"version":"v","providers":{},"rules":[]}');
    const operator = anOperator();
    expect(await operator.run('--output', 'json', 'rules', 'validate', file)).toBe(2);
    expect(operator.stdout.jsonLines()).toMatchObject([{ file, valid: false }]);
  });

  it('given --version, when run, then the package version is printed and the exit code is 0', async () => {
    const operator = anOperator();
    expect(await operator.run('--version')).toBe(0);
    expect(operator.stdout.text().trim()).toBe(packageJson.version);
  });

  it('given --help, when run, then the global options and the exit codes are listed', async () => {
    const operator = anOperator();
    expect(await operator.run('--help')).toBe(0);
    for (const option of [
      '--profile',
      '--region',
      '--endpoint-url',
      '--output',
      '--json',
      '--stage',
      '--version',
    ])
      expect(operator.stdout.text()).toContain(option);
    for (const meaning of Object.values(EXIT_CODES)) expect(operator.stdout.text()).toContain(meaning);
  });

  it('given --profile, --region and --endpoint-url, when a context is made, then every SDK client gets them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-'));
    writeFileSync(join(dir, 'config'), '[profile ops]\nregion = ap-south-1\n');
    const sink = aCapturedOutput();
    const io: CliIo = {
      stdout: sink.stream,
      stderr: sink.stream,
      env: { AWS_CONFIG_FILE: join(dir, 'config') },
    };
    const context = new CliContext(io, { profile: 'ops', endpointUrl: 'http://127.0.0.1:4566' });
    expect(context.clientConfig()).toEqual({
      maxAttempts: 4,
      region: 'ap-south-1',
      profile: 'ops',
      endpoint: 'http://127.0.0.1:4566',
    });
    const client = context.client((config) => ({
      config,
      destroyed: false,
      destroy() {
        this.destroyed = true;
      },
    }));
    context.destroy();
    expect(client.destroyed).toBe(true);
    expect(context.endpoint()).toBe('http://127.0.0.1:4566');
  });
});

describe('bad input: exit 2 with what to do, before any AWS call', () => {
  it.each([
    ['a stage that is not one', ['--stage', 'Prod!', 'history', 'j1'], /--stage "Prod!" is not a stage/],
    ['an unknown output format', ['--output', 'yaml', 'history', 'j1'], /Allowed choices are table, json/],
    [
      'an unknown provider',
      ['decisions', '--provider', 'fal,fall', ...THAT_DAY],
      /--provider "fall" is not allowed; allowed: auto, fal, none, replicate/,
    ],
    [
      'unknown providers, repeated',
      ['decisions', '--provider', 'x', '--provider', 'y', ...THAT_DAY],
      /--provider "x", "y" are not allowed/,
    ],
    [
      'an unknown reason',
      ['decisions', '--provider', 'auto', '--reason', 'no-route', ...THAT_DAY],
      /--reason "no-route" is not allowed; allowed: invalid_request, unknown_provider, no_route, capability_mismatch, insufficient_credits/,
    ],
    [
      'an unknown model',
      ['decisions', '--provider', 'fal', '--model', 'wan', ...THAT_DAY],
      /--model "wan" is not allowed; allowed: wan-2\.1-i2v, wan-i2v/,
    ],
    [
      'an unknown outcome',
      ['decisions', '--provider', 'fal', '--outcome', 'lost', ...THAT_DAY],
      /Allowed choices are routed, rejected/,
    ],
    [
      'a replay of an unknown provider',
      ['replay', '--incident', 'INC-1', '--provider', 'fla', ...THAT_DAY, '--dry-run'],
      /--provider "fla" is not allowed/,
    ],
    [
      'a what-if of an unknown provider',
      ['what-if', '--rules', aRulesFile(), '--provider', 'fla', ...THAT_DAY],
      /--provider "fla" is not allowed; allowed: auto, fal, none, replicate/,
    ],
    [
      'an endpoint that is not a URL',
      ['--endpoint-url', 'localhost:4566', 'history', 'j1'],
      /--endpoint-url localhost:4566 is not an http\(s\) URL/,
    ],
  ])('given %s, when run, then it exits 2 saying so', async (_, argv, message) => {
    serveTables(documents, {});
    const operator = anOperator();
    expect(await operator.run(...argv)).toBe(2);
    expect(operator.stderr.text()).toMatch(message);
    expect(operator.stdout.text()).toBe('');
    // At most the published rules were read (for names not in the bundled table): no audit query, no write.
    expect(documents.commandCalls(QueryCommand).filter((call) => call.args[0].input.IndexName)).toHaveLength(
      0,
    );
    expect(documents.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('given a provider only a published table has, when audited, then it is allowed', async () => {
    const published = {
      ...defaultRoutingTable,
      providers: {
        ...defaultRoutingTable.providers,
        runway: { queue: 'RunwayJobQueue', models: { gen3: { pricePerSecond: 0.1 } } },
      },
    };
    const stored = { rulesVersion: 'v-runway', table: JSON.stringify(published) };
    const rulesRecord = {
      stream: 'rules#routing',
      version: 1,
      schemaVersion: RULES_RECORD_SCHEMA_VERSION,
      type: 'RulesPublished',
      action: 'publish',
      jobId: null,
      recordedAt: '2026-11-25T10:00:00.000Z',
      by: 'ops',
      why: 'runway',
      subject: 'v-runway',
      forced: false,
      gate: null,
      active: stored,
      shadow: { rulesVersion: 'broken', table: '{' },
      canary: null,
      previous: [null],
    };
    documents
      .on(QueryCommand)
      .callsFake((input: { IndexName?: string; ExpressionAttributeValues?: Record<string, unknown> }) =>
        input.IndexName ? { Items: [] } : { Items: [rulesRecord] },
      );
    const operator = anOperator();
    expect(await operator.run('decisions', '--provider', 'runway', '--model', 'gen3', ...THAT_DAY)).toBe(0);
  });

  it('given STAGE in the environment that is not a stage, when run, then it names STAGE', async () => {
    const operator = anOperator({ AWS_REGION: 'eu-west-1', STAGE: 'my_stage' });
    expect(await operator.run('history', 'j1')).toBe(2);
    expect(operator.stderr.text()).toMatch(/STAGE "my_stage" is not a stage/);
  });

  it('given no region anywhere, when a command needs AWS, then it exits 2 naming --region and AWS_REGION', async () => {
    const operator = anOperator({});
    expect(await operator.run('history', 'j1')).toBe(2);
    expect(operator.stderr.text()).toMatch(
      /no AWS region: pass --region \(e\.g\. --region eu-west-1\) or set AWS_REGION/,
    );
    expect(documents.calls()).toHaveLength(0);
  });

  it('given no region, when a command needs no AWS, then it runs', async () => {
    const operator = anOperator({});
    expect(await operator.run('rules', 'validate', aRulesFile())).toBe(0);
  });

  it('given AWS_DEFAULT_REGION only, when a command runs, then it is used', async () => {
    serveTables(documents, { log: [aNoRouteRecord()] });
    const operator = anOperator({ AWS_DEFAULT_REGION: 'eu-north-1' });
    expect(await operator.run('decisions', '--provider', 'auto', ...THAT_DAY)).toBe(0);
  });

  it('given an unknown profile, when run, then it exits 2 naming the profile', async () => {
    const operator = anOperator({ AWS_REGION: 'eu-west-1' });
    expect(await operator.run('--profile', 'prod-typo', 'history', 'j1')).toBe(2);
    expect(operator.stderr.text()).toMatch(
      /AWS profile prod-typo \(from --profile\) is not in ~\/\.aws\/config/,
    );
  });
});

describe('AWS failures say what to do next', () => {
  const contextWith = (env: Record<string, string>, options = {}) => {
    const sink = aCapturedOutput();
    const context = new CliContext({ stdout: sink.stream, stderr: sink.stream, env }, options);
    void context.aws;
    return context;
  };
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });

  it('given a refused connection to an endpoint, when reported, then it asks whether the local stack runs and how to start it', () => {
    const context = contextWith({ AWS_REGION: 'eu-west-1' }, { endpointUrl: 'http://127.0.0.1:4566' });
    expect(failureOf(refused, context)).toEqual({
      code: 1,
      message:
        'cannot connect to http://127.0.0.1:4566 (ECONNREFUSED): is the local stack running? If not, start it with ' +
        '`npm run local -- --keep` and paste the export lines it prints; otherwise check --endpoint-url / AWS_ENDPOINT_URL',
    });
  });

  it('given a refused connection inside an AggregateError, with the endpoint from AWS_ENDPOINT_URL_DYNAMODB, when reported, then it is found', () => {
    const context = contextWith({
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });
    const error = Object.assign(new AggregateError([new Error('x'), refused]), { name: 'AggregateError' });
    expect(failureOf(error, context).message).toMatch(
      /^cannot connect to http:\/\/127\.0\.0\.1:8000 \(ECONNREFUSED\)/,
    );
    expect(
      failureOf(
        new Error('getaddrinfo ENOTFOUND dynamodb.xx.amazonaws.com'),
        contextWith({ AWS_REGION: 'xx' }),
      ).message,
    ).toBe('cannot reach AWS (ENOTFOUND): check the network or proxy, and --region');
  });

  it('given missing credentials under a profile, when reported, then the profile is named and the ways to get credentials listed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-'));
    writeFileSync(join(dir, 'config'), '[profile ops]\nregion = eu-west-1\n');
    const context = contextWith({ AWS_CONFIG_FILE: join(dir, 'config') }, { profile: 'ops' });
    const error = new CredentialsProviderError('Could not load credentials from any providers');
    expect(failureOf(error, context).message).toMatch(
      /^no AWS credentials for profile ops: Could not load credentials from any providers\. Configure them \(aws configure, aws sso login\)/,
    );
    expect(failureOf('plain', undefined)).toEqual({
      code: 1,
      message: 'a non-Error value was thrown (string)',
    });
  });
});
