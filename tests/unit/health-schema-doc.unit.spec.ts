/** The provider-health sections of docs/EVENT_SCHEMA.md are checked against the parser and the projection. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { loggableEventId, readSignalMessage } from '../../src/handlers/signal-messages.ts';
import { validateSubmission } from '../../src/intake/submission.ts';
import { healthChangedRecord } from '../../src/log/routing-records.ts';
import { HEALTH_CHANGED_DETAIL_TYPE, planEffects } from '../../src/projections/effects.ts';
import {
  attemptCompletedSchema,
  jobStartedSchema,
  parseHealthSignal,
  parseJobStarted,
  SIGNAL_SOURCE,
} from '../../src/provider-health/signals.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aTransition } from '../support/provider-health-contract.ts';
import { aRevisionPlan } from '../support/revisions.ts';
import { aSubmittedEvent } from '../support/submissions.ts';

const doc = readFileSync(fileURLToPath(new URL('../../docs/EVENT_SCHEMA.md', import.meta.url)), 'utf8');

function block(marker: string): Record<string, unknown> {
  const match = new RegExp(`<!-- ${marker} -->\\s*\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  if (!match) throw new Error(`no JSON block after <!-- ${marker} --> in EVENT_SCHEMA.md`);
  return JSON.parse(match[1] as string);
}

const shape = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, v === null ? 'null' : typeof v]),
  );

describe('docs/EVENT_SCHEMA.md: provider health', () => {
  it.each(['example: attempt-completed', 'example: status-changed'])(
    'given the %s example, then the signal parser accepts it',
    (marker) => {
      const event = block(marker);
      expect(event.source).toBe(SIGNAL_SOURCE);
      expect(parseHealthSignal(event)).toMatchObject({ ok: true });
    },
  );

  it('given the job-started example, then the signal parser accepts it', () => {
    const event = block('example: job-started');
    expect(event.source).toBe(SIGNAL_SOURCE);
    expect(parseJobStarted(event)).toMatchObject({ ok: true, started: { queueWaitMs: 41250 } });
  });

  it('given the direct-path example file, then each of its events is a body the HealthSignals function reads as a signal, with an id its refusals could log, about the job of the example’s submission', () => {
    const events = block('example: file direct-signals.json') as unknown as Record<string, unknown>[];
    const job = block('example: file direct-job.json');
    expect(validateSubmission(aSubmittedEvent(job) as never, defaultRoutingTable)).toMatchObject({
      ok: true,
    });
    expect(events.map((event) => event['detail-type'])).toEqual([
      'provider.job.started',
      'provider.attempt.completed',
    ]);
    for (const event of events) {
      expect(readSignalMessage(JSON.stringify(event))).toMatchObject({ ok: true });
      expect(loggableEventId(event.id)).toBe(event.id);
      expect((event.detail as Record<string, unknown>).dispatchId).toBe(`${job.jobId}:v1`);
    }
  });

  it.each([
    ['schema: attempt-completed', attemptCompletedSchema],
    ['schema: job-started', jobStartedSchema],
  ] as const)('given the published %s, then it is what zod generates from the parser', (marker, schema) => {
    expect(block(marker)).toEqual(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
  });

  it('given the health-changed example, then it has exactly the fields and types the projection announces', () => {
    const plan = planEffects(
      healthChangedRecord(aTransition('fal', 1, { key: 'fal#wan-i2v', model: 'wan-i2v' })),
    );
    expect(plan.announcement.detailType).toBe(HEALTH_CHANGED_DETAIL_TYPE);
    expect(shape(block('example: health-changed'))).toEqual(shape(plan.announcement.detail));
  });
});

describe('docs/EVENT_SCHEMA.md: re-routing', () => {
  it.each([
    ['example: rerouted', 'routed' as const],
    ['example: failed', 'explicit' as const],
  ])(
    'given the %s example, then it has exactly the fields and types the projection announces',
    async (marker, kind) => {
      expect(shape(block(marker))).toEqual(shape((await aRevisionPlan(kind)).announcement.detail));
    },
  );
});
