/**
 * The operator CLI's commands end to end in-process, on tables served through a mocked document
 * client (tests/support/fake-document-tables.ts): the paths the emulator tests do not reach —
 * intake rejections, credit lookups, replay contention, the progress bar, who asked.
 */
import { join } from 'node:path';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CliContext, TableNotFoundError } from '../../src/cli/cli-context.ts';
import { type CliIo, processIo, runCli } from '../../src/cli/main.ts';
import { renderTable } from '../../src/cli/output.ts';
import { DEFAULT_MAX_ATTEMPTS } from '../../src/commands/handle-command.ts';
import type { DecisionRecord } from '../../src/log/routing-records.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { serveTables } from '../support/fake-document-tables.ts';
import { aNoRouteRecord, anInvalidRequestRecord, aReplayOf, aRoutedRecord } from '../support/records.ts';

const osUser = vi.hoisted(() => ({ fails: false }));
vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  return {
    ...os,
    userInfo: (...args: Parameters<typeof os.userInfo>) => {
      if (osUser.fails) throw new Error('uv_os_get_passwd returned ENOENT');
      return os.userInfo(...args);
    },
  };
});

const documents = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  documents.reset();
  osUser.fails = false;
});
afterEach(() => documents.reset());
afterAll(removeEventDirectories);

/** The day every record of records.ts is logged on (2026-11-25), as an audit window. */
const THAT_DAY = ['--since', '2026-11-25', '--until', '2026-11-26'];
/** A replay of fal's decisions of that day under one incident. */
const REPLAY_FAL = ['replay', '--incident', 'INC-1', '--provider', 'fal', ...THAT_DAY];

function anOperator(options: { env?: Record<string, string>; tty?: boolean } = {}) {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput({ isTTY: options.tty });
  const io: CliIo = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { AWS_REGION: 'eu-west-1', USER: 'operator', ...options.env },
    now: () => new Date('2026-11-27T12:00:00.000Z'),
  };
  return { run: (...argv: string[]) => runCli(argv, io), stdout, stderr };
}

describe('routing-manager history of unusual streams', () => {
  it('given an intake rejection without a jobId, when its event stream is asked, then its field errors show and no projection is looked up', async () => {
    const record = anInvalidRequestRecord({ withJobId: false });
    serveTables(documents, { log: [record] });
    const operator = anOperator();
    expect(await operator.run('history', record.metadata.stream)).toBe(0);
    expect(operator.stdout.text()).toMatch(/rejected: invalid_request/);
    expect(operator.stdout.text()).toMatch(/field detail\.lengthSec: /);
    expect(operator.stdout.text()).toMatch(/projection \(Jobs-dev\): none/);
    expect(operator.stdout.text()).not.toMatch(/rules /);
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('given an intake rejection without a jobId, when asked for as JSON, then the id asked for stands in for the jobId', async () => {
    const record = anInvalidRequestRecord({ withJobId: false });
    serveTables(documents, { log: [record] });
    const operator = anOperator();
    expect(await operator.run('history', record.metadata.stream, '--json')).toBe(0);
    expect(operator.stdout.jsonLines()).toEqual([
      {
        jobId: record.metadata.stream,
        stream: record.metadata.stream,
        job: record.data.job === null ? null : JSON.parse(record.data.job),
        records: [
          {
            version: 1,
            recordedAt: record.metadata.recordedAt,
            type: 'RoutingRejected',
            jobId: null,
            eventId: record.metadata.eventId,
            submittedAt: record.metadata.submittedAt,
            outcome: 'rejected',
            reason: 'invalid_request',
            requestedProvider: 'none',
            fieldErrors: record.data.fieldErrors,
            explanation: null,
          },
        ],
        projection: null,
        content: { status: 'hidden' },
      },
    ]);
  });

  it('given a routed job not projected yet, when its history is asked, then the projection reads none', async () => {
    const record = aRoutedRecord();
    serveTables(documents, { log: [record] });
    const operator = anOperator();
    expect(await operator.run('history', record.metadata.jobId as string)).toBe(0);
    expect(operator.stdout.text()).toMatch(/projection \(Jobs-dev\): none/);
  });

  it.each([
    [undefined, 'credit balance not consulted'],
    [null, 'credit balance no credit record'],
    [12.5, 'credit balance 12.5 credits'],
  ])(
    'given a decision that saw credit balance %s, when its history is shown, then it reads "%s"',
    async (creditBalance, shown) => {
      const routed = aRoutedRecord();
      const record = {
        ...routed,
        data: { ...routed.data, explanation: { ...routed.data.explanation, creditBalance } },
      } as DecisionRecord;
      serveTables(documents, { log: [record] });
      const operator = anOperator();
      expect(await operator.run('history', record.metadata.jobId as string)).toBe(0);
      expect(operator.stdout.text()).toContain(shown);
    },
  );

  it('given a rejected job whose projection has a reason but no provider, when shown, then the projection line says so', async () => {
    const record = aNoRouteRecord();
    serveTables(documents, {
      log: [record],
      jobs: [{ jobId: record.metadata.jobId, status: 'REJECTED', reason: 'no_route', routingVersion: 1 }],
    });
    const operator = anOperator();
    expect(await operator.run('history', record.metadata.jobId as string)).toBe(0);
    expect(operator.stdout.text()).toMatch(
      /projection \(Jobs-dev\): REJECTED reason no_route, routingVersion 1, routedAt -$/m,
    );
  });
});

describe('routing-manager history speaks the domain', () => {
  it('given a routed job that was replayed, when shown, then the job is an object, the cost has its unit, the replay its incident and dispatch, and no storage keys show', async () => {
    const decision = aRoutedRecord();
    const replay = aReplayOf(decision);
    serveTables(documents, { log: [decision, { ...replay, data: { ...replay.data, incident: 'INC-7' } }] });
    const operator = anOperator();
    expect(await operator.run('history', decision.metadata.jobId, '--output', 'json')).toBe(0);
    const [history] = operator.stdout.jsonLines() as [Record<string, unknown>];
    expect(history).toMatchObject({
      job: JSON.parse(decision.data.job),
      records: [
        { version: 1, estimatedCost: { amount: decision.data.estimatedCost, unit: 'credits' } },
        { version: 2, incident: 'INC-7', replayOf: 1, dispatchId: `${decision.metadata.jobId}:v2` },
      ],
    });
    expect(JSON.stringify(history)).not.toMatch(/gsi1pk|gsi1sk|payloadHash|schemaVersion/);

    await operator.run('history', decision.metadata.jobId);
    expect(operator.stdout.text()).toMatch(/est\. cost [\d.]+ credits, dispatch \S+:v1/);
    expect(operator.stdout.text()).toMatch(
      /re-projects v1: routed → .*, dispatch \S+:v2\n\s+incident INC-7 \(replay /,
    );
  });

  it('given a job with a large extra field, when shown as a table, then the field is summarised by its size', async () => {
    const decision = aRoutedRecord();
    const job = { ...JSON.parse(decision.data.job), referenceImage: 'A'.repeat(5000) };
    serveTables(documents, { log: [{ ...decision, data: { ...decision.data, job: JSON.stringify(job) } }] });
    const operator = anOperator();
    expect(await operator.run('history', decision.metadata.jobId)).toBe(0);
    expect(operator.stdout.text()).toMatch(/^\s+referenceImage:\s+<5000 bytes>$/m);
    expect(operator.stdout.text()).not.toContain('AAAA');
  });

  it('given a stored job that is not JSON, when shown, then the job reads null and nothing of it is quoted', async () => {
    const decision = aRoutedRecord();
    serveTables(documents, {
      log: [{ ...decision, data: { ...decision.data, job: '{"prompt": "corgi surf' } }],
    });
    const operator = anOperator();
    expect(await operator.run('history', decision.metadata.jobId)).toBe(0);
    expect(operator.stdout.text()).toMatch(/^job \S+\n {2}null$/m);
    expect(operator.stdout.text() + operator.stderr.text()).not.toContain('corgi');
  });

  it('given a replay of a rejection, when shown, then it has no dispatch', async () => {
    const decision = aNoRouteRecord();
    serveTables(documents, { log: [decision, aReplayOf(decision)] });
    const operator = anOperator();
    expect(await operator.run('history', decision.metadata.jobId as string)).toBe(0);
    expect(operator.stdout.text()).toMatch(
      /ProjectionReplayRequested {2}re-projects v1: rejected: no_route$/m,
    );
    expect(operator.stdout.text()).toMatch(/incident - \(replay /);
    expect(operator.stdout.text()).not.toMatch(/dispatch \S+:v2/);
  });
});

describe('routing-manager decisions of rejections', () => {
  it('given intake rejections filed under none, when audited as a table, then the stream stands in for the jobId and dashes for the rest', async () => {
    const rejection = anInvalidRequestRecord({ withJobId: false });
    serveTables(documents, { log: [rejection] });
    const operator = anOperator();
    expect(await operator.run('decisions', '--provider', 'none', ...THAT_DAY)).toBe(0);
    const row = operator.stdout.lines()[2]?.split(/\s{2,}/);
    expect(row).toEqual([
      rejection.metadata.recordedAt,
      rejection.metadata.stream,
      'rejected',
      '-',
      'invalid_request',
      '-',
      '-',
    ]);
    expect(operator.stderr.text()).toMatch(
      /^1 decision\(s\) in \[2026-11-25T00:00:00\.000Z, 2026-11-26T00:00:00\.000Z\)/,
    );
  });

  it('given an intake rejection, when audited as JSON, then its rule and rules version are null', async () => {
    serveTables(documents, { log: [anInvalidRequestRecord()] });
    const operator = anOperator();
    expect(await operator.run('decisions', '--provider', 'none', ...THAT_DAY, '--json')).toBe(0);
    expect(operator.stdout.jsonLines()).toMatchObject([
      {
        outcome: 'rejected',
        reason: 'invalid_request',
        matchedRule: null,
        rulesVersion: null,
        provider: null,
      },
    ]);
  });

  it('given routed and rejected decisions under auto, when only routed ones are asked, then the rejections are left out', async () => {
    const routed = aRoutedRecord();
    const rejected = aNoRouteRecord();
    serveTables(documents, { log: [routed, rejected] });
    const operator = anOperator();
    expect(
      await operator.run('decisions', '--provider', 'fal,auto', ...THAT_DAY, '--outcome', 'routed', '--json'),
    ).toBe(0);
    expect(operator.stdout.jsonLines()).toMatchObject([{ jobId: routed.metadata.jobId, outcome: 'routed' }]);
  });
});

describe('routing-manager replay when it cannot finish', () => {
  it('given a concurrent writer that always takes the next version, when replayed, then the job is reported not replayed and the exit code is 1', async () => {
    const decision = aRoutedRecord();
    const tables = serveTables(documents, { log: [decision] });
    tables.beforeAppend = (record) => {
      const other = aReplayOf(decision, record.metadata.version);
      tables.log.push({
        ...other,
        data: { ...other.data, replayId: `replay-other-${record.metadata.version}` },
      });
    };
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--why', 'outage', '--json')).toBe(1);
    expect(operator.stdout.jsonLines()).toMatchObject([
      {
        matched: 1,
        appended: 0,
        failed: 1,
        jobs: [{ jobId: decision.metadata.jobId, action: 'contended', version: null }],
      },
    ]);
    expect(documents.commandCalls(PutCommand)).toHaveLength(DEFAULT_MAX_ATTEMPTS);
  });

  it('given a decision whose stream reads empty, when replayed, then it is counted as not replayed in the summary', async () => {
    const decision = aRoutedRecord();
    serveTables(documents, { log: [decision] });
    // The index lists the decision; the stream read (ConsistentRead) finds nothing.
    documents.on(QueryCommand, { ConsistentRead: true }).resolves({ Items: [] });
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--why', 'outage')).toBe(1);
    expect(operator.stdout.text()).toMatch(/^not replayed:\s+1 \(run the same command again\)$/m);
    expect(operator.stdout.text()).toMatch(/^appended:\s+0$/m);
  });

  it('given a dry run, when shown as a table, then it says nothing changed and counts what would be appended', async () => {
    serveTables(documents, { log: [aRoutedRecord(), aRoutedRecord()] });
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--dry-run')).toBe(0);
    expect(operator.stdout.text()).toMatch(/^replay:\s+replay-\w+ \(dry run: nothing appended\)$/m);
    expect(operator.stdout.text()).toMatch(/^would append:\s+2$/m);
    expect(operator.stdout.text()).not.toMatch(/not replayed/);
    expect(documents.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('given intake rejections with and without a jobId, when their rejections are replayed, then only the one with a job is matched', async () => {
    const withJob = anInvalidRequestRecord();
    serveTables(documents, { log: [anInvalidRequestRecord({ withJobId: false }), withJob] });
    const operator = anOperator();
    expect(
      await operator.run(
        'replay',
        '--incident',
        'INC-1',
        '--provider',
        'none',
        '--outcome',
        'rejected',
        ...THAT_DAY,
        '--dry-run',
        '--json',
      ),
    ).toBe(0);
    expect(operator.stdout.jsonLines()).toMatchObject([
      { matched: 1, jobs: [{ jobId: withJob.metadata.jobId }] },
    ]);
  });

  it('given the connection lost part-way, when replayed, then it says how far it got and the command that resumes', async () => {
    serveTables(documents, { log: [aRoutedRecord(), aRoutedRecord()] });
    documents
      .on(QueryCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }));
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--why', "fal's outage")).toBe(1);
    expect(operator.stderr.text()).toMatch(/cannot (connect|reach)/);
    expect(operator.stderr.text()).toContain(
      "replay interrupted before it finished; what it did is recorded and is not done again. Resume with: routing-manager replay --incident INC-1 --provider fal --since 2026-11-25 --until 2026-11-26 --why 'fal'\\''s outage'",
    );
  });

  it('given jobs that could not be appended, when replayed, then it says how far it got and the command that finishes them', async () => {
    serveTables(documents, { log: [aRoutedRecord(), aRoutedRecord()] });
    documents.on(QueryCommand, { ConsistentRead: true }).resolves({ Items: [] });
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--why', 'outage')).toBe(1);
    expect(operator.stderr.text()).toContain(
      'replay left some undone after 2 of 2 job(s); what it did is recorded and is not done again. Resume with: routing-manager replay --incident INC-1 --provider fal --since 2026-11-25 --until 2026-11-26 --why outage',
    );
  });

  it('given a --why of blanks, when replayed for real, then it is a usage error', async () => {
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--why', '   ')).toBe(2);
    expect(operator.stderr.text()).toMatch(/--why is required/);
  });
});

describe('routing-manager replay: who asked, and progress', () => {
  const replayedBy = async (env: Record<string, string>) => {
    const tables = serveTables(documents, { log: [aRoutedRecord()] });
    const operator = anOperator({ env });
    expect(await operator.run(...REPLAY_FAL, '--why', 'outage')).toBe(0);
    const replay = tables.log.find((record) => record.type === 'ProjectionReplayRequested');
    return replay?.type === 'ProjectionReplayRequested' ? replay.data.requestedBy : undefined;
  };

  it('given no --by, when replayed, then $USER is recorded as the one who asked', async () => {
    expect(await replayedBy({ USER: 'alice' })).toBe('alice');
  });

  it('given no --by and no $USER, when replayed, then the OS account name is recorded', async () => {
    const { userInfo } = await import('node:os');
    expect(await replayedBy({ USER: undefined as unknown as string })).toBe(userInfo().username);
  });

  it('given no --by, no $USER and no OS account, when replayed, then unknown is recorded', async () => {
    osUser.fails = true;
    expect(await replayedBy({ USER: undefined as unknown as string })).toBe('unknown');
  });

  it('given a terminal on stderr, when replayed, then a progress bar counts the jobs there and stdout keeps only the summary', async () => {
    serveTables(documents, { log: [aRoutedRecord(), aRoutedRecord(), aRoutedRecord()] });
    const operator = anOperator({ tty: true });
    expect(await operator.run(...REPLAY_FAL, '--why', 'outage', '--json')).toBe(0);
    expect(operator.stderr.text()).toMatch(/replay \[.*\] 3\/3 jobs \| appended 3 \| already replayed 0/);
    expect(operator.stdout.jsonLines()).toMatchObject([{ appended: 3 }]);
  });

  it('given no terminal on stderr, when replayed, then no progress bar is drawn', async () => {
    serveTables(documents, { log: [aRoutedRecord()] });
    const operator = anOperator();
    expect(await operator.run(...REPLAY_FAL, '--why', 'outage')).toBe(0);
    expect(operator.stderr.text()).toBe('');
  });
});

describe('routing-manager what-if with credits', () => {
  /** Candidate: the auto rule to fal now requires credits (0.05/s, an 8 s job costs 0.4). */
  const creditsRequired = {
    version: 'candidate-credits',
    providers: defaultRoutingTable.providers,
    rules: defaultRoutingTable.rules.map((rule) =>
      rule.id === 'auto-short-720p-fal' ? { ...rule, requireCredits: true } : rule,
    ),
  };

  const aRulesFile = async (content: unknown) =>
    join(await anEventDirectory({ 'rules.json': content }), 'rules.json');

  it('given a candidate that needs credits, when evaluated, then each user without a recorded balance is looked up once in Credits', async () => {
    const rich = aRoutedRecord({ userId: 'rich' });
    const poor = [aRoutedRecord({ userId: 'poor' }), aRoutedRecord({ userId: 'poor' })];
    const tables = serveTables(documents, { log: [rich, ...poor] });
    tables.credits.set('rich', { userId: 'rich', balance: 100 });
    tables.credits.set('poor', { userId: 'poor', balance: 0.1 });
    const operator = anOperator();
    expect(
      await operator.run('what-if', '--rules', await aRulesFile(creditsRequired), ...THAT_DAY, '--json'),
    ).toBe(0);
    expect(operator.stdout.jsonLines()).toMatchObject([
      {
        scanned: 3,
        changed: 2,
        byKind: { outcome: 2 },
        transitions: [{ from: 'fal/wan-i2v', to: 'rejected:insufficient_credits', count: 2 }],
        cost: { before: 1.2, after: 0.4, delta: -0.8 },
      },
    ]);
    const looked = documents
      .commandCalls(GetCommand)
      .map((call) => [call.args[0].input.TableName, call.args[0].input.Key?.userId]);
    expect(looked).toEqual([
      ['Credits-dev', 'poor'],
      ['Credits-dev', 'rich'],
    ]);
  });

  it('given a candidate that lowers the cost, when shown as a table, then the delta is signed and the changed jobs are examples', async () => {
    const poor = aRoutedRecord({ userId: 'poor' });
    serveTables(documents, { log: [poor] });
    const operator = anOperator();
    expect(await operator.run('what-if', '--rules', await aRulesFile(creditsRequired), ...THAT_DAY)).toBe(0);
    const text = operator.stdout.text();
    expect(text).toMatch(/^estimated cost:\s+0\.4 → 0 credits \(-0\.4 credits\)$/m);
    expect(text).toMatch(/^fal\/wan-i2v\s+rejected:insufficient_credits\s+1$/m);
    expect(text).toMatch(
      new RegExp(
        `^${poor.metadata.recordedAt}\\s+${poor.metadata.jobId}\\s+fal/wan-i2v\\s+rejected:insufficient_credits\\s+otherwise-no-route$`,
        'm',
      ),
    );
  });

  it('given the default table as the candidate, when shown as a table, then nothing changes and no credits are read', async () => {
    serveTables(documents, { log: [aRoutedRecord()] });
    const operator = anOperator();
    expect(await operator.run('what-if', '--rules', await aRulesFile(defaultRoutingTable), ...THAT_DAY)).toBe(
      0,
    );
    expect(operator.stdout.text()).toMatch(/^would change:\s+0$/m);
    expect(operator.stdout.text()).toMatch(/^estimated cost:\s+0\.4 → 0\.4 credits \(0 credits\)$/m);
    expect(operator.stdout.text()).not.toMatch(/examples:/);
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('given a rules file that is not JSON, when evaluated, then it is a usage error naming the file, line and column', async () => {
    const file = await aRulesFile('{\n  "version": \n');
    const operator = anOperator();
    expect(await operator.run('what-if', '--rules', file, ...THAT_DAY)).toBe(2);
    expect(operator.stderr.text()).toContain(
      `routing-manager: --rules ${file}:3:1: not JSON: value expected`,
    );
    expect(documents.calls()).toHaveLength(0);
  });

  it('given a Credits table that is missing, when a candidate needs credits, then it exits 1 naming that table', async () => {
    serveTables(documents, { log: [aRoutedRecord()] });
    documents.on(GetCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const operator = anOperator();
    expect(
      await operator.run(
        'what-if',
        '--rules',
        await aRulesFile(creditsRequired),
        ...THAT_DAY,
        '--region',
        'eu-west-1',
      ),
    ).toBe(1);
    expect(operator.stderr.text()).toMatch(/table Credits-dev not found in region eu-west-1/);
  });
});

describe('routing-manager failures that are not errors', () => {
  it('given a failure thrown as a plain value, when a command runs, then it exits 1 telling only its type (a thrown value may be content)', async () => {
    const stderr = aCapturedOutput();
    const io: CliIo = {
      stdout: aCapturedOutput().stream,
      stderr: stderr.stream,
      env: {},
      now: () => {
        throw 'clock unavailable';
      },
    };
    expect(await runCli(['decisions', '--provider', 'fal', '--since', '1h'], io)).toBe(1);
    expect(stderr.text()).toBe('routing-manager: a non-Error value was thrown (string)\n');
  });
});

describe('the CLI context', () => {
  const io = (env: Record<string, string> = {}): CliIo => {
    const sink = aCapturedOutput();
    return { stdout: sink.stream, stderr: sink.stream, env };
  };
  const missingTable = () =>
    Promise.reject(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));

  it.each([
    ['--region', { region: 'ap-south-1' }, { AWS_REGION: 'eu-west-1' }, 'ap-south-1'],
    ['$AWS_REGION', {}, { AWS_REGION: 'eu-west-1' }, 'eu-west-1'],
    [
      'nothing',
      {},
      { AWS_CONFIG_FILE: '/no/such/config', AWS_SHARED_CREDENTIALS_FILE: '/no/such/file' },
      'unknown',
    ],
  ])(
    'given %s and no client yet, when a table is missing, then the error names that region',
    async (_, options, env, region) => {
      const context = new CliContext(io(env), options);
      const error = await context.onTable('RoutingLog-dev', missingTable).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TableNotFoundError);
      expect((error as Error).message).toContain(`table RoutingLog-dev not found in region ${region};`);
    },
  );

  it('given an operation failing otherwise, when run on a table, then the error passes through', async () => {
    const context = new CliContext(io(), {});
    const failure = new Error('throttled');
    await expect(context.onTable('T', () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('given text that already ends a line, when written, then no blank line is added', () => {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const context = new CliContext({ stdout: stdout.stream, stderr: stderr.stream, env: {} }, {});
    context.out('a\n');
    context.out('b');
    context.err('c\n');
    context.err('d');
    expect(stdout.text()).toBe('a\nb\n');
    expect(stderr.text()).toBe('c\nd\n');
  });

  it('given no clock, when the time is asked, then it is the current time', () => {
    const before = Date.now();
    const now = new CliContext(io(), {}).now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('given the process, when its I/O is taken, then it is the real streams and environment, and Ctrl-C is watched', () => {
    expect(processIo()).toEqual({
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      interrupts: true,
    });
  });
});

describe('rendering ragged rows', () => {
  it('given rows shorter or longer than the header, when rendered, then missing cells are blank and extra cells follow', () => {
    expect(renderTable(['a', 'bb'], [['x'], ['y', 'z', 'extra']]).split('\n')).toEqual([
      'a  bb',
      '-  --',
      'x',
      'y  z   extra',
    ]);
  });
});
