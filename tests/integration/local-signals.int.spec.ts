/**
 * `npm run local` input files may carry provider signals between submissions: each input is fully
 * projected before the next, so a terminal failure of a job's dispatch re-routes it, and enough
 * failures open the provider's breaker; the rows say what each signal changed.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { asSubmittedEvent, type SubmittedInput } from '../../src/cli/submitted-events.ts';
import { runLocal } from '../../src/local/run-local.ts';
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

describe('runLocal with provider signals in its inputs', () => {
  it('given a submission, a terminal failure of its dispatch and four more failures, when run, then the first failure re-routes the job and the fifth opens the breaker', async () => {
    const detail = aSubmissionDetail({ lengthSec: 8, resolution: '720p', provider: 'auto' });
    const jobId = detail.jobId as string;
    const others = [1, 2, 3, 4].map((n) =>
      anInput(`failure-${n}`, anAttemptEvent({ jobId: `job-${randomUUID()}` }, { seconds: n })),
    );
    const run = await runLocal({
      inputs: [
        anInput('submitted', detail),
        anInput('failed', anAttemptEvent({ jobId, dispatchId: `${jobId}:v1` })),
        ...others,
      ],
      stage: uniqueStage('s'),
      emulators: inject('emulatorEndpoints'),
    });
    await run.stop();
    const [submitted, failed, ...rest] = run.results;
    expect(submitted).toMatchObject({ outcome: 'routed', provider: 'fal', model: 'wan-i2v' });
    expect(failed).toMatchObject({
      outcome: 'signal',
      jobId,
      provider: 'replicate',
      queue: expect.any(String),
      change: {
        health: [],
        revision: { jobId, version: 2, provider: 'replicate', already: false },
        summary: expect.stringMatching(/^job v2 re-routed to replicate\//),
      },
      // The revision's dispatch, projected before the next input was read back.
      effects: {
        messages: 1,
        jobStatus: 'ROUTED',
        message: expect.objectContaining({ dispatchId: `${jobId}:v2` }),
      },
    });
    expect(rest.slice(0, 3).map((row) => row.change?.summary)).toEqual([
      'no change',
      'no change',
      'no change',
    ]);
    expect(rest[3]).toMatchObject({
      outcome: 'signal',
      change: {
        health: [expect.objectContaining({ from: 'closed', to: 'open', version: 1 })],
        revision: null,
      },
    });
  });
});
