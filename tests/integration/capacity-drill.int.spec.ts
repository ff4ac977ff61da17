/**
 * The capacity drill of docs/REPLAY_AND_AUDIT.md, through `npm run local`'s runner: a table with fal
 * concurrency 2, three auto jobs, a fal completion, then more jobs — read back from the emulators.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { asSubmittedEvent, type SubmittedInput } from '../../src/cli/submitted-events.ts';
import { runLocal } from '../../src/local/run-local.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { anAttemptEvent } from '../support/health-signals.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail } from '../support/submissions.ts';

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

const anInput = (origin: string, value: unknown): SubmittedInput => ({
  origin,
  event: asSubmittedEvent(value, { newId: randomUUID, now: () => new Date() }),
});

function withoutIdAndTime(event: Record<string, unknown>) {
  const { id: _id, time: _time, ...rest } = event;
  return rest;
}

describe('the capacity drill on npm run local', () => {
  it('given fal concurrency 2, when three auto jobs, an explicit fal job, a fal completion and one more auto job run, then the third goes to Replicate, the explicit one is held (never switched) and reaches fal when the completion frees a slot, and the last goes to Replicate', async () => {
    const jobs = [1, 2, 3, 4].map(() => aSubmissionDetail({ provider: 'auto' }));
    const explicit = aSubmissionDetail({ provider: 'fal' });
    const first = jobs[0]?.jobId as string;
    const run = await runLocal({
      inputs: [
        ...jobs.slice(0, 3).map((job, i) => anInput(`job-${i + 1}`, job)),
        anInput('explicit', explicit),
        // As a file may hold it: no id, no time (EventBridge would add both; so does the runner).
        anInput(
          'completed',
          withoutIdAndTime(anAttemptEvent({ jobId: first, outcome: 'succeeded', errorClass: null })),
        ),
        anInput('job-4', jobs[3]),
      ],
      rules: { table: aTableWithConcurrency({ fal: 2 }), origin: 'fal-2.json' },
      stage: uniqueStage('c'),
      emulators: inject('emulatorEndpoints'),
    });
    await run.stop();
    const rows = run.results;
    expect(rows.map((row) => [row.outcome, row.provider ?? row.reason])).toEqual([
      ['routed', 'fal'],
      ['routed', 'fal'],
      ['routed', 'replicate'],
      ['held', 'fal'],
      ['signal', null],
      ['routed', 'replicate'],
    ]);
    expect(rows[4]).toMatchObject({
      outcome: 'signal',
      change: { summary: expect.stringMatching(/^fal slot released/) },
    });
    // The held explicit job reached FalJobQueue (version 2, once), never Replicate's.
    expect(rows[3]).toMatchObject({
      queue: 'FalJobQueue',
      effects: { messages: 1, message: { dispatchId: `${explicit.jobId}:v2`, routingVersion: 2 } },
    });
    expect(rows[2]).toMatchObject({ effects: { messages: 1 } });
  });
});
