/**
 * `npm run local`'s `main` in-process against real emulators: the suite's, and once its own (the
 * way `npm run local` runs), with --keep handing the stack to the operator CLI.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbCreditBalances } from '../../src/aws/dynamodb-credit-balances.ts';
import { runCli } from '../../src/cli/main.ts';
import { type LocalIo, main } from '../../src/local/main.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});
afterAll(removeEventDirectories);

function aLocalCommand(overrides: Partial<LocalIo> = {}) {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const io: LocalIo = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    untilStopped: async () => undefined,
    ...overrides,
  };
  return { run: (...argv: string[]) => main(argv, io), stdout, stderr };
}

/** The `export NAME=value` lines --keep prints, as an environment. */
const exportsOf = (lines: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    lines
      .map((line) => /^export (\w+)=(.*)$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[1] as string, (match[2] as string).replace(/^'(.*)'$/, '$1')]),
  );

describe('npm run local on the suite emulators', () => {
  it('given a directory with an array file and --credits, when run with --json, then one line per submission reports what landed and the credits are seeded', async () => {
    const routed = aSubmissionDetail({ userId: 'user-credits' });
    const rejected = aSubmissionDetail({ resolution: '4k' });
    const directory = await anEventDirectory({
      'a-single.json': aSubmittedEvent(routed),
      'b-batch.json': [rejected, aSubmissionDetail({ provider: 'replicate' })],
      'c-stream.json': { Records: [] },
      'credits.txt': JSON.stringify({ 'user-credits': 7.5 }),
    });
    const stage = uniqueStage('m');
    const command = aLocalCommand({ emulators: inject('emulatorEndpoints') });
    const code = await command.run(
      '--json',
      '--stage',
      stage,
      '--credits',
      join(directory, 'credits.txt'),
      directory,
    );
    expect(code, command.stderr.text().slice(-2000)).toBe(0);
    expect(command.stdout.jsonLines()).toMatchObject([
      {
        origin: join(directory, 'a-single.json'),
        jobId: routed.jobId,
        outcome: 'routed',
        provider: 'fal',
        effects: { messages: 1, events: 1, jobStatus: 'ROUTED' },
      },
      {
        origin: `${join(directory, 'b-batch.json')}[0]`,
        jobId: rejected.jobId,
        outcome: 'rejected',
        reason: 'no_route',
        effects: { messages: 0, events: 1, jobStatus: 'REJECTED' },
      },
      { origin: `${join(directory, 'b-batch.json')}[1]`, outcome: 'routed', provider: 'replicate' },
    ]);
    expect(command.stderr.text()).toMatch(/skipped .*c-stream\.json: not a submission sample/);
    const documents = createDocumentClient();
    try {
      expect(await new DynamoDbCreditBalances(documents, `Credits-${stage}`).balanceOf('user-credits')).toBe(
        7.5,
      );
    } finally {
      documents.destroy();
    }
  });
});

describe('npm run local -- --keep with its own emulators', () => {
  const environmentBefore = { ...process.env };
  afterAll(() => {
    for (const name of Object.keys(process.env)) if (!(name in environmentBefore)) delete process.env[name];
    Object.assign(process.env, environmentBefore);
  });

  it('given no running emulators, when kept, then the printed environment lets routing-manager read the job, and the emulators are gone afterwards', async () => {
    const detail = aSubmissionDetail();
    const directory = await anEventDirectory({ 'job.json': detail });
    const told: unknown[] = [];
    let history: { code: number; json: unknown } | null = null;
    const command = aLocalCommand({
      onEmulators: (running) => told.push(running),
      untilStopped: async () => {
        const environment = exportsOf(command.stdout.lines());
        const output = aCapturedOutput();
        const code = await runCli(['history', detail.jobId as string, '--json'], {
          stdout: output.stream,
          stderr: output.stream,
          env: environment,
        });
        history = { code, json: output.jsonLines()[0] };
      },
    });
    const stage = uniqueStage('k');
    const code = await command.run('--keep', '--stage', stage, join(directory, 'job.json'));
    expect(code, command.stderr.text().slice(-2000)).toBe(0);
    expect(history).toMatchObject({
      code: 0,
      json: { jobId: detail.jobId, records: [{ type: 'RoutingDecided' }], projection: { status: 'ROUTED' } },
    });
    const environment = exportsOf(command.stdout.lines());
    expect(environment).toMatchObject({ EVENT_LOG_TABLE: `RoutingLog-${stage}`, STAGE: stage });
    expect(told).toHaveLength(2);
    expect(told[1]).toBeNull();
    await expect(fetch(environment.AWS_ENDPOINT_URL_DYNAMODB as string)).rejects.toThrow();
  });
});
