import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CredentialsProviderError } from '@smithy/core/config';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableNames } from '../../src/cli/cli-context.ts';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { renderFacts, renderTable } from '../../src/cli/output.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

function anIo(env: Record<string, string> = {}) {
  const captured = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: { write: (text: string) => (captured.stdout += text) },
    stderr: { write: (text: string) => (captured.stderr += text) },
    env: { AWS_REGION: 'eu-west-1', ...env },
    now: () => new Date('2026-11-25T12:00:00.000Z'),
  };
  return { io, captured };
}

const documents = mockClient(DynamoDBDocumentClient);
beforeEach(() => documents.reset());
afterEach(() => documents.reset());

describe('routing-manager arguments', () => {
  it.each([
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['history without a jobId', ['history']],
    ['decisions without --provider', ['decisions', '--since', '1d']],
    ['decisions without --since', ['decisions', '--provider', 'fal']],
    ['a time that is not one', ['decisions', '--provider', 'fal', '--since', 'yesterday']],
    ['a window backwards', ['decisions', '--provider', 'fal', '--since', 'now', '--until', '1d']],
    ['a zero --limit', ['decisions', '--provider', 'fal', '--since', '1d', '--limit', '0']],
    ['an unknown --outcome', ['decisions', '--provider', 'fal', '--since', '1d', '--outcome', 'lost']],
    ['replay without --why', ['replay', '--incident', 'INC-1', '--provider', 'fal', '--since', '1d']],
    ['redrive without --why', ['redrive', '--incident', 'INC-1', '--since', '1d']],
    ['redrive without --incident', ['redrive', '--since', '1d', '--why', 'abandoned']],
    [
      'redrive with a marker TTL below 2 days',
      ['redrive', '--incident', 'INC-1', '--since', '1d', '--dry-run', '--marker-ttl-days', '1'],
    ],
    ['replay without --incident', ['replay', '--provider', 'fal', '--since', '1d', '--why', 'outage']],
    [
      'replay with prose as --incident',
      ['replay', '--incident', 'fal outage', '--provider', 'fal', '--since', '1d', '--dry-run'],
    ],
    ['what-if with a missing rules file', ['what-if', '--rules', '/no/such/file.json', '--since', '1d']],
    ['an unknown option', ['history', 'j1', '--colour']],
  ])('given %s, when run, then it exits 2 with a message on stderr and calls no AWS API', async (_, argv) => {
    const { io, captured } = anIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(captured.stderr).not.toBe('');
    expect(captured.stdout).toBe('');
    expect(documents.calls()).toHaveLength(0);
  });

  it('given an invalid routing table file, when what-if runs, then it exits 2 listing the problems', async () => {
    const { io, captured } = anIo();
    const file = new URL('../../package.json', import.meta.url).pathname;
    expect(await runCli(['what-if', '--rules', file, '--since', '1d'], io)).toBe(2);
    expect(captured.stderr).toMatch(/Invalid routing table/);
  });

  it('given --help, when run, then it prints usage and exits 0', async () => {
    const { io, captured } = anIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(captured.stdout).toMatch(/history.*decisions.*replay.*what-if/s);
  });
});

describe('routing-manager errors from AWS', () => {
  it('given a job with no record, when history runs, then it exits 3', async () => {
    documents.on(QueryCommand).resolves({ Items: [] });
    const { io, captured } = anIo();
    expect(await runCli(['history', 'job-unknown', '--stage', 'prod'], io)).toBe(3);
    expect(captured.stderr).toMatch(/no routing record for job job-unknown in table RoutingLog-prod/);
  });

  it('given a missing table, when a command runs, then it exits 1 naming the table, the region and --stage', async () => {
    documents
      .on(QueryCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const { io, captured } = anIo();
    expect(await runCli(['history', 'j1', '--stage', 'qa', '--region', 'eu-west-1'], io)).toBe(1);
    expect(captured.stderr).toMatch(/table RoutingLog-qa not found in region eu-west-1; check --stage/);
  });

  it('given no credentials, when a command runs, then it exits 1 saying so', async () => {
    documents.on(QueryCommand).rejects(new CredentialsProviderError('Could not load credentials'));
    const { io, captured } = anIo();
    expect(await runCli(['decisions', '--provider', 'fal', '--since', '1h'], io)).toBe(1);
    expect(captured.stderr).toMatch(/no AWS credentials: Could not load credentials/);
  });

  it('given any other AWS failure, when a command runs, then it exits 1 with the error', async () => {
    documents
      .on(QueryCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { io, captured } = anIo();
    expect(await runCli(['decisions', '--provider', 'fal', '--since', '1h'], io)).toBe(1);
    expect(captured.stderr).toMatch(/ThrottlingException: Rate exceeded/);
  });

  it('given a decided job, when history runs, then it shows the decision, its candidates and the projection', async () => {
    const record = aDecisionRecord();
    documents.on(QueryCommand).resolves({ Items: [storedItemOf(record)] });
    documents.on(GetCommand).resolves({
      Item: {
        jobId: record.metadata.jobId,
        status: 'ROUTED',
        provider: 'fal',
        model: 'wan-i2v',
        routingVersion: 1,
      },
    });
    const { io, captured } = anIo();
    expect(await runCli(['history', record.metadata.jobId as string], io)).toBe(0);
    expect(captured.stdout).toMatch(/routed → fal\/wan-i2v/);
    expect(captured.stdout).toMatch(/explicit-fal\s+fal\/wan-i2v\s+excluded\s+requested_provider_mismatch/);
    expect(captured.stdout).toMatch(/projection \(Jobs-dev\): ROUTED fal\/wan-i2v, routingVersion 1/);
  });
});

describe('table names', () => {
  it('given nothing, when resolved, then the stage is $STAGE or dev', () => {
    expect(tableNames({}, {})).toEqual({
      stage: 'dev',
      log: 'RoutingLog-dev',
      jobs: 'Jobs-dev',
      credits: 'Credits-dev',
      content: 'RoutingContent-dev',
      effects: 'RoutingEffects-dev',
    });
    expect(tableNames({}, { STAGE: 'qa' }).log).toBe('RoutingLog-qa');
  });

  it('given the handler environment, when no --stage is given, then its table names are used', () => {
    expect(tableNames({}, { EVENT_LOG_TABLE: 'RoutingLog-x', JOBS_TABLE: 'Jobs-x' })).toMatchObject({
      log: 'RoutingLog-x',
      jobs: 'Jobs-x',
    });
  });

  it('given an explicit --stage, when resolved, then it wins over the environment, and --log-table over both', () => {
    const env = { EVENT_LOG_TABLE: 'RoutingLog-x' };
    expect(tableNames({ stage: 'prod' }, env).log).toBe('RoutingLog-prod');
    expect(tableNames({ stage: 'prod', logTable: 'Mine' }, env).log).toBe('Mine');
  });
});

describe('output rendering', () => {
  it('given rows, when rendered as a table, then columns are aligned under a rule', () => {
    expect(renderTable(['a', 'bb'], [['xxx', 'y']]).split('\n')).toEqual(['a    bb', '---  --', 'xxx  y']);
  });

  it('given facts, when rendered, then keys are aligned', () => {
    expect(
      renderFacts([
        ['a', '1'],
        ['long', '2'],
      ]),
    ).toBe('a:    1\nlong: 2');
  });
});
