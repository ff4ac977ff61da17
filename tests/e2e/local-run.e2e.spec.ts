/**
 * `npm run local`: the real command as a child process (its own emulators, the samples in events/),
 * and `runLocal` in-process against the suite's emulators so coverage sees the orchestration.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { loadSubmittedEvents } from '../../src/cli/submitted-events.ts';
import { runLocal } from '../../src/local/run-local.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail } from '../support/submissions.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('node', ['src/local/main.ts', ...args], {
      cwd: root,
      // node_modules/.bin first: the npm `node` package is Node 24, which runs the .ts sources.
      env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('npm run local -- --json', () => {
  it('given the submitted-* samples, when run, then stdout holds one JSON result per event with what landed', async () => {
    const { code, stdout, stderr } = await runMain(['--json']);
    expect(code, stderr.slice(-2000)).toBe(0);
    const results = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const byFile = Object.fromEntries(results.map((r) => [r.origin.split('/').pop(), r]));
    expect(results).toHaveLength(4);
    expect(byFile['submitted-fal.json']).toMatchObject({
      outcome: 'routed',
      provider: 'fal',
      model: 'wan-i2v',
      queue: 'FalJobQueue',
      reason: null,
      effects: { messages: 1, events: 1, jobStatus: 'ROUTED' },
    });
    expect(byFile['submitted-replicate.json']).toMatchObject({
      outcome: 'routed',
      provider: 'replicate',
      effects: { messages: 1, events: 1, jobStatus: 'ROUTED' },
    });
    expect(byFile['submitted-no-route.json']).toMatchObject({
      outcome: 'rejected',
      provider: null,
      reason: 'no_route',
      effects: { messages: 0, events: 1, jobStatus: 'REJECTED' },
    });
    expect(byFile['submitted-invalid.json']).toMatchObject({
      outcome: 'rejected',
      reason: 'invalid_request',
      effects: { messages: 0, events: 1 },
    });
    // Quiet by default: the handlers' logs appear only with --verbose (see below).
    expect(stderr).not.toMatch(/"Decisions":1/);
  });

  it('given --verbose, when run, then the handlers log to stderr and stdout still holds only the results', async () => {
    const { code, stdout, stderr } = await runMain([
      '--json',
      '--verbose',
      join(root, 'events/submitted-fal.json'),
    ]);
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toHaveLength(1);
    expect(stderr).toMatch(/"Decisions":1/);
  });

  it('given a path that does not exist, when run, then it fails with exit code 2 (a bad input) and a message', async () => {
    const { code, stderr, stdout } = await runMain(['--json', 'no/such/events']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/no\/such\/events: no such file or directory/);
  });
});

describe('runLocal in-process', () => {
  it('given a bare detail, a duplicate and seeded credits, when run, then results come in input order with their effects', async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const detail = aSubmissionDetail({ jobId: `job-${randomUUID()}` });
    const inputs = await loadSubmittedEvents([join(root, 'events')], {
      newId: randomUUID,
      now: () => new Date(),
      onlyPrefix: 'submitted-',
    });
    const bare = {
      origin: 'bare',
      event: (await import('../../src/cli/submitted-events.ts')).asSubmittedEvent(detail, {
        newId: randomUUID,
        now: () => new Date(),
      }),
    };
    const messages: string[] = [];
    const run = await runLocal({
      inputs: [...inputs, bare, { ...bare, origin: 'bare again' }],
      stage: uniqueStage('l'),
      credits: { 'user-123': 10 },
      emulators: inject('emulatorEndpoints'),
      progress: (message) => messages.push(message),
    });
    await run.stop();
    expect(run.results.map((r) => r.outcome)).toEqual([
      'routed',
      'rejected',
      'rejected',
      'routed',
      'routed',
      'duplicate',
    ]);
    expect(run.results[5]).toMatchObject({
      jobId: detail.jobId,
      provider: 'fal',
      reason: null,
      effects: { messages: 1, events: 1, jobStatus: 'ROUTED' },
    });
    expect(run.environment).toMatchObject({ EVENT_LOG_TABLE: run.stack.tables.routingLog });
    expect(messages).toContain('reading back queues, announcements and Jobs');
  });
});
