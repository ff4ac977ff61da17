/**
 * Erasure enforced where the effect happens (docs/DATA_PROTECTION.md): once a job's stream holds a
 * ContentErased record — wherever in the stream — the projector sends no copy of the job's content,
 * sealed or retained, on any path: a retry of the decision, a revision, a replay or a re-drive.
 * A property over every ordering, batching and redelivery of the stream's records.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitJob } from '../../src/content/job-content.ts';
import { protectRecord } from '../../src/content/protect-record.ts';
import type {
  ContentErasedRecord,
  ProjectionRedriveRequestedRecord,
  RoutingDecidedRecord,
  RoutingLogRecord,
} from '../../src/log/routing-records.ts';
import { projectWithContent } from '../../src/projections/content-retention.ts';
import { contentKeyRing } from '../support/content.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { aReplayOf, aRevisionOf, aRoutedRecord, RECORDED_AT } from '../support/records.ts';

const PROMPT = 'a secret lighthouse at dawn';
const at = (second: number) => `2026-11-25T10:00:${String(second).padStart(2, '0')}.000Z`;

/** Every record a job's stream can hold whose projection would send its content, and the erasure. */
async function aJobStream(vault: ReturnType<typeof fakePorts>['vault']) {
  const routed = aRoutedRecord({ jobId: 'erased-job', prompt: PROMPT, userId: 'erin-5' });
  const key = await contentKeyRing(vault).sealingKey(new Date(RECORDED_AT));
  const decision = protectRecord(routed, splitJob(JSON.parse(routed.data.job)), key) as RoutingDecidedRecord;
  const metadata = (version: number, recordedAt: string) => ({
    stream: decision.metadata.stream,
    version,
    recordedAt,
    schemaVersion: 1,
    jobId: decision.metadata.jobId as string,
  });
  const erasure: ContentErasedRecord = {
    type: 'ContentErased',
    data: { erasureId: 'erasure-1', requestedBy: 'dpo', why: 'request #1' },
    metadata: metadata(2, at(4)),
  };
  const replay = aReplayOf(decision, 3);
  const replayed = { ...replay, metadata: { ...replay.metadata, recordedAt: at(5) } };
  const revision = aRevisionOf(decision, decision, { version: 4, recordedAt: at(6) });

  const redrive: ProjectionRedriveRequestedRecord = {
    type: 'ProjectionRedriveRequested',
    data: {
      redriveId: 'redrive-1',
      incident: 'INC-1',
      requestedBy: 'ops',
      why: 'lost',
      redriveOf: 1,
      target: decision,
    },
    metadata: metadata(5, at(7)),
  };
  return { decision, erasure, others: [decision, replayed, revision, redrive] as RoutingLogRecord[] };
}

describe('erasure enforced by the projector', () => {
  it('property: in any ordering, batching and redelivery of the stream, nothing is sent from the batch holding the erasure on, nor at all once the erasure marker is stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Each batch: indexes into [decision, replay, revision, redrive, erasure], repeats allowed
        // (a redelivered or re-driven record comes again), in any order.
        fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.boolean(),
        async (batches, forgetRanFirst) => {
          const { ports, queues, vault } = fakePorts();
          const { erasure, others } = await aJobStream(vault);
          const records = [...others, erasure];
          // `forget` writes the erasure marker right after appending ContentErased.
          if (forgetRanFirst) await vault.write({ retain: [], erase: [erasure.metadata.stream] });
          let erased = forgetRanFirst;
          for (const batch of batches) {
            const picked = batch.map((i) => records[i] as RoutingLogRecord);
            const before = queues.sent.length;
            erased ||= picked.some((record) => record.type === 'ContentErased');
            const outcomes = await projectWithContent(picked, ports);
            expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
            if (erased) expect(queues.sent.slice(before)).toEqual([]);
          }
          for (const { message } of queues.sent) expect(message.body).toContain(PROMPT); // what was sent (before the erasure) was the job
          if (erased) {
            const stored = [...vault.items.values()];
            expect(JSON.stringify(stored)).not.toContain(PROMPT);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('given the erasure marker stored, when the decision is retried and a revision, a replay and a re-drive arrive, then none sends anything and nothing is retained again', async () => {
    const { ports, queues, bus, vault } = fakePorts();
    const { others, erasure } = await aJobStream(vault);
    await vault.write({ retain: [], erase: [erasure.metadata.stream] });
    const outcomes = await projectWithContent(others, ports);
    expect(outcomes.map((outcome) => outcome.effects.dispatch)).toEqual([
      'not_applicable',
      'not_applicable',
      'not_applicable',
      'not_applicable',
    ]);
    expect(queues.sent).toEqual([]);
    expect(bus.published).toEqual([]);
    expect(vault.items.get(erasure.metadata.stream)).toEqual({ id: erasure.metadata.stream, erased: true });
  });

  it('given no erasure, when the same records are projected, then the content is sent (the property above is not vacuous)', async () => {
    const { ports, queues, vault } = fakePorts();
    const { others } = await aJobStream(vault);
    await projectWithContent(others, ports);
    expect(queues.sent.length).toBeGreaterThan(1);
    expect(queues.sent.every(({ message }) => message.body.includes(PROMPT))).toBe(true);
  });
});
