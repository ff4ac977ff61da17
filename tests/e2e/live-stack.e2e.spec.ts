/**
 * `npm run local --json -- --keep` as an operator runs it: the real npm, its own emulators. A real
 * PutEvents from an independent client and `routing-manager submit` (a separate process) against the
 * printed environment are routed and projected; SIGTERM to the npm process then stops everything,
 * leaving no process behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { aSubmissionDetail } from '../support/submissions.ts';
import { eventually } from '../support/until.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;

afterAll(removeEventDirectories);

interface Captured {
  stdout: string;
  stderr: string;
}

function capture(child: ChildProcess): Captured {
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  return output;
}

const closed = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveClose) =>
    child.once('close', (code, signal) => resolveClose({ code, signal })),
  );

/** Every live (not zombie) descendant of `pid`, from the process table. */
function liveDescendantsOf(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([p, pp, stat]) => ({ pid: Number(p), ppid: Number(pp), zombie: (stat ?? '').startsWith('Z') }));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const row of table) {
      if (row.ppid === parent && !row.zombie) {
        found.push(row.pid);
        walk(row.pid);
      }
    }
  };
  walk(pid);
  return found;
}

/** Whether the process is still running (a zombie waiting to be reaped is not). */
function running(pid: number): boolean {
  try {
    const stat = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return stat.length > 0 && !stat.startsWith('Z');
  } catch {
    return false;
  }
}

const exportsOf = (text: string): Record<string, string> =>
  Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [
      m[1] as string,
      (m[2] as string).replace(/^'(.*)'$/, '$1'),
    ]),
  );

describe('npm run local --json -- --keep', () => {
  it('given a live stack, when events arrive by PutEvents and by submit, then they are projected, and SIGTERM to npm stops every process', {
    timeout: 180_000,
  }, async () => {
    const first = aSubmissionDetail({ provider: 'replicate' });
    const directory = await anEventDirectory({
      'first.json': first,
      'invalid.json': { userId: 'user-123', lengthSec: -1 },
    });
    const npm = spawn(
      'npm',
      [
        'run',
        'local',
        '--json',
        '--',
        '--keep',
        '--stage',
        'live',
        join(directory, 'first.json'),
        join(directory, 'invalid.json'),
      ],
      { cwd: root, env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = capture(npm);
    const exited = closed(npm);
    try {
      await eventually(() => output.stderr.includes('[local] stack live'), {
        timeoutMs: 150_000,
        intervalMs: 100,
        what: `the live stack; stderr so far:\n${output.stderr.slice(-2000)}`,
      });

      // With npm's --json, its banner went to stderr: stdout is exactly the JSON Lines results.
      const rows = output.stdout
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line));
      expect(rows).toMatchObject([
        {
          jobId: first.jobId,
          outcome: 'routed',
          eventId: expect.any(String),
          fieldErrors: null,
          effects: {
            messages: 1,
            message: { jobId: first.jobId },
            event: { jobId: first.jobId, provider: 'replicate' },
          },
        },
        {
          jobId: null,
          outcome: 'rejected',
          reason: 'invalid_request',
          eventId: expect.any(String),
          fieldErrors: expect.arrayContaining([expect.objectContaining({ path: 'detail.jobId' })]),
          effects: { message: null, event: { status: 'rejected', reason: 'invalid_request' } },
        },
      ]);
      // Quiet by default: no handler log line reached the terminal.
      expect(output.stderr).not.toMatch(/"level":/);

      const env = exportsOf(output.stderr);
      expect(env).toMatchObject({
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        EVENT_BUS_NAME: 'routing-live',
        AWS_ENDPOINT_URL_EVENTBRIDGE: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      });
      const aws = {
        region: env.AWS_REGION,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID as string,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
        },
      };
      const documents = DynamoDBDocumentClient.from(
        new DynamoDBClient({ ...aws, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB }),
      );
      const jobStatus = async (jobId: string) =>
        (
          await documents.send(
            new GetCommand({ TableName: env.JOBS_TABLE, Key: { jobId }, ConsistentRead: true }),
          )
        ).Item?.status as string | undefined;

      // Any AWS client: a PutEvents of our own on the printed bus and endpoint.
      const putDetail = aSubmissionDetail();
      const events = new EventBridgeClient({ ...aws, endpoint: env.AWS_ENDPOINT_URL_EVENTBRIDGE });
      const putAt = Date.now();
      await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: env.EVENT_BUS_NAME,
              Source: 'frontend.api',
              DetailType: 'video.job.submitted',
              Detail: JSON.stringify(putDetail),
            },
          ],
        }),
      );
      expect(await eventually(() => jobStatus(putDetail.jobId as string), { what: 'the put job' })).toBe(
        'ROUTED',
      );
      const secondsToProjected = (Date.now() - putAt) / 1000;
      events.destroy();

      // routing-manager submit, as a separate process with only the printed environment.
      const submitted = aSubmissionDetail({ jobId: `job-${randomUUID()}` });
      const file = join(await anEventDirectory({ 'job.json': submitted }), 'job.json');
      const submit = spawn('node', ['bin/routing-manager.mjs', 'submit', file], {
        cwd: root,
        env: { PATH, HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const submitOutput = capture(submit);
      expect((await closed(submit)).code, submitOutput.stderr).toBe(0);
      expect(submitOutput.stderr).toMatch('put 1 of 1 event(s) on bus routing-live');
      expect(
        await eventually(() => jobStatus(submitted.jobId as string), { what: 'the submitted job' }),
      ).toBe('ROUTED');
      documents.destroy();
      expect(output.stderr).toMatch(`[live] event `);
      console.info(`[e2e] PutEvents → Jobs ROUTED on the live stack: ${secondsToProjected.toFixed(2)} s`);

      // SIGTERM to npm itself: it forwards the signal; the stack stops and nothing is left behind.
      const children = liveDescendantsOf(npm.pid as number);
      expect(children.length).toBeGreaterThanOrEqual(3); // node, DynamoDB Local's java, moto
      npm.kill('SIGTERM');
      const { signal, code } = await exited;
      expect({ signal, code }).toEqual({ signal: 'SIGTERM', code: null });
      await eventually(() => children.every((pid) => !running(pid)), {
        what: `no process left of ${children.join(', ')}`,
      });
      expect(output.stderr).toMatch('[local] stopping the stack');
      await expect(fetch(env.AWS_ENDPOINT_URL_DYNAMODB as string)).rejects.toThrow();
      await expect(fetch(env.AWS_ENDPOINT_URL_SQS as string)).rejects.toThrow();
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    }
  });
});
