/**
 * `runLocal` on the suite's emulators, for what the samples never exercise: emulators it starts
 * and must stop when provisioning fails, and the results of odd inputs — a conflicting duplicate,
 * an intake rejection without a jobId, an event without an id, a provider with no local queue.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRulesLog } from '../../src/aws/dynamodb-rules-log.ts';
import { asSubmittedEvent, type SubmittedInput } from '../../src/cli/submitted-events.ts';
import type { RunningEmulators } from '../../src/local/emulators.ts';
import { runLocal } from '../../src/local/run-local.ts';
import { RULES_STREAM } from '../../src/log/rules-records.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, rulesVersionOf } from '../../src/routing/routing-table.ts';
import { uniqueStage } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

const envelope = { newId: randomUUID, now: () => new Date() };
const anInput = (origin: string, value: unknown): SubmittedInput => ({
  origin,
  event: asSubmittedEvent(value, envelope),
});

/** Default routing, except long auto jobs go to `acme`, a provider this stack has no queue for. */
const withAcme = loadRoutingTable({
  version: 'with-acme',
  providers: {
    ...defaultRoutingTable.providers,
    acme: { queue: 'AcmeJobQueue', models: { 'acme-1': { pricePerSecond: 0.01 } } },
  },
  rules: [
    {
      id: 'long-auto-acme',
      description: 'long auto jobs to acme',
      when: { requestedProvider: ['auto'], minLengthSec: 20 },
      route: { provider: 'acme', model: 'acme-1' },
    },
    ...defaultRoutingTable.rules,
  ],
});

describe('runLocal starting its own emulators', () => {
  it('given emulators it started, when provisioning fails, then it stops them and the failure reaches the caller', async () => {
    let stops = 0;
    const started: RunningEmulators = {
      endpoints: inject('emulatorEndpoints'),
      stop: async () => {
        stops++;
      },
    };
    const told: RunningEmulators[] = [];
    await expect(
      runLocal({
        inputs: [anInput('bare', aSubmissionDetail())],
        stage: 'not a stage!',
        startEmulators: async () => started,
        onEmulatorsStarted: (running) => told.push(running),
      }),
      // Tables and queues are created concurrently: whichever emulator refuses the name first.
    ).rejects.toThrow(/Invalid table\/index name|Can only include alphanumeric characters/);
    expect(told).toEqual([started]);
    expect(stops).toBe(1);
  });
});

describe('runLocal results for unusual inputs', () => {
  it('given a duplicate with another payload, a job without an id, an event without an id and an unqueued provider, when run, then each result says what landed', async () => {
    const detail = aSubmissionDetail();
    const { id: _, ...withoutId } = aSubmittedEvent(aSubmissionDetail({ provider: 'replicate' }));
    const noJobId = aSubmissionDetail();
    delete noJobId.jobId;
    const progress: string[] = [];
    const run = await runLocal({
      inputs: [
        anInput('routed', aSubmittedEvent(detail)),
        anInput('conflicting', aSubmittedEvent({ ...detail, prompt: 'another prompt' })),
        anInput('no-job-id', noJobId),
        { origin: 'no-event-id', event: withoutId as SubmittedInput['event'] },
        anInput('to-acme', aSubmissionDetail({ lengthSec: 30 })),
      ],
      stage: uniqueStage('r'),
      emulators: inject('emulatorEndpoints'),
      table: withAcme,
      progress: (message) => progress.push(message),
    });
    await run.stop();
    const [routed, conflicting, noJob, noEventId, toAcme] = run.results;
    expect(routed).toMatchObject({
      outcome: 'routed',
      provider: 'fal',
      fieldErrors: null,
      effects: {
        messages: 1,
        events: 1,
        // What actually landed, read back: the queue body and the announced detail.
        message: expect.objectContaining({ jobId: detail.jobId }),
        event: expect.objectContaining({ jobId: detail.jobId, provider: 'fal', model: 'wan-i2v' }),
      },
    });
    expect(conflicting).toMatchObject({
      jobId: detail.jobId,
      outcome: 'duplicate',
      reason: 'conflicting_duplicate',
    });
    expect(noJob).toMatchObject({
      jobId: null,
      outcome: 'rejected',
      reason: 'invalid_request',
      fieldErrors: [expect.objectContaining({ path: 'detail.jobId' })],
      effects: {
        messages: 0,
        events: 1,
        jobStatus: null,
        message: null,
        event: expect.objectContaining({ status: 'rejected', reason: 'invalid_request' }),
      },
    });
    // An event without an id is recorded under the id the router gave it, and reported with it.
    expect(noEventId).toMatchObject({
      eventId: expect.any(String),
      outcome: 'routed',
      provider: 'replicate',
    });
    expect(toAcme).toMatchObject({
      outcome: 'routed',
      provider: 'acme',
      model: 'acme-1',
      effects: { messages: 0 },
    });
    expect(progress).toEqual(
      expect.arrayContaining([expect.stringMatching(/^projector reported \d+ failed record\(s\)/)]),
    );
  });
});

describe('runLocal with --rules', () => {
  it('given a table declaring Veo, when run, then it is the published active version, Veo has a local queue and an explicit Veo job lands on it', async () => {
    const withVeo = loadRoutingTable({
      ...defaultRoutingTable,
      version: 'local-with-veo',
      providers: {
        ...defaultRoutingTable.providers,
        veo: { queue: 'VeoJobQueue', models: { 'veo-3-fast': { pricePerSecond: 0.4 } } },
      },
      rules: [
        {
          id: 'explicit-veo',
          description: 'explicit veo',
          when: { requestedProvider: ['veo'] },
          route: { provider: 'veo', model: 'veo-3-fast' },
        },
        ...defaultRoutingTable.rules,
      ],
    });
    const detail = aSubmissionDetail({ provider: 'veo' });
    const run = await runLocal({
      inputs: [anInput('veo', aSubmittedEvent(detail))],
      stage: uniqueStage('r'),
      emulators: inject('emulatorEndpoints'),
      rules: { table: withVeo, origin: 'veo.json' },
    });
    await run.stop();
    expect(JSON.parse(run.environment.PROVIDER_QUEUE_URLS as string)).toEqual({
      veo: expect.stringMatching(/VeoJobQueue-r/),
    });
    expect(run.results[0]).toMatchObject({
      outcome: 'routed',
      provider: 'veo',
      model: 'veo-3-fast',
      effects: {
        messages: 1,
        message: expect.objectContaining({ jobId: detail.jobId, queue: 'VeoJobQueue' }),
      },
    });
    const history = await new DynamoDbRulesLog(
      createDocumentClient(),
      run.stack.tables.routingLog,
    ).readStream(RULES_STREAM);
    expect(history).toMatchObject([
      { data: { action: 'publish', by: 'npm run local', subject: rulesVersionOf(withVeo) } },
    ]);
  });
});
