/** docs/EVENT_SCHEMA.md cannot drift: its examples are checked against the real schema and builders. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { REJECTION_REASONS } from '../../src/intake/reason-codes.ts';
import { jobSubmissionSchema, validateSubmission } from '../../src/intake/submission.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { schemaAccepts } from '../support/json-schema-subset.ts';
import { aNoRouteRecord, anInvalidRequestRecord, aRoutedRecord } from '../support/records.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const doc = readFileSync(fileURLToPath(new URL('../../docs/EVENT_SCHEMA.md', import.meta.url)), 'utf8');

function block(marker: string): unknown {
  const match = new RegExp(`<!-- ${marker} -->\\s*\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  if (!match) throw new Error(`no JSON block after <!-- ${marker} --> in EVENT_SCHEMA.md`);
  return JSON.parse(match[1] as string);
}

/** Field name → JSON type (null counts as its own type; arrays as "array"). */
const shape = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v,
    ]),
  );

describe('docs/EVENT_SCHEMA.md', () => {
  it('given the inbound example, then validateSubmission accepts it', () => {
    expect(validateSubmission(block('example: inbound') as never, defaultRoutingTable)).toMatchObject({
      ok: true,
    });
  });

  it('given the pasted JSON Schema, then it is what zod generates from jobSubmissionSchema', () => {
    expect(block('schema: submission')).toEqual(
      z.toJSONSchema(jobSubmissionSchema, { io: 'input', unrepresentable: 'any' }),
    );
  });

  it('given the routed example, then it has exactly the fields and types the projection announces', () => {
    const produced = planEffects(aRoutedRecord({ provider: 'fal' })).announcement.detail;
    expect(shape(block('example: routed'))).toEqual(shape(produced));
  });

  it('given the rejected examples, then they have exactly the fields and types the projection announces', () => {
    expect(shape(block('example: rejected'))).toEqual(
      shape(planEffects(aNoRouteRecord()).announcement.detail),
    );
    expect(shape(block('example: rejected-invalid'))).toEqual(
      shape(planEffects(anInvalidRequestRecord({ withJobId: false })).announcement.detail),
    );
  });

  it('given the provider-queue example, then it has exactly the fields and types of the dispatch body and is itself a valid submission', () => {
    const example = block('example: provider-message') as Record<string, unknown>;
    const produced = planEffects(aRoutedRecord({ provider: 'auto', feature: { audio: false } })).dispatch
      ?.body;
    expect(shape(example)).toEqual(shape(produced));
    expect(jobSubmissionSchema.safeParse(example).success).toBe(true);
  });

  it('given the reason-code table, then it lists exactly the closed set of rejection reasons', () => {
    const table = doc.slice(doc.indexOf('<!-- reason-codes -->'), doc.indexOf('## Provider-queue message'));
    const codes = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(codes).toEqual([...REJECTION_REASONS]);
  });
});

describe('docs/EVENT_SCHEMA.md and the code agree on what is accepted', () => {
  const pick = <T>(...values: T[]) => fc.constantFrom(...values);
  const field = <T>(valid: fc.Arbitrary<T>, ...others: unknown[]) =>
    fc.oneof({ weight: 2, arbitrary: valid as fc.Arbitrary<unknown> }, pick(...others, undefined, 7, null));
  const details = fc.record(
    {
      jobId: field(pick('job-1', 'A.b_c:d@e/f-9'), '', ' job-1', 'job 1', 'j'.repeat(129), 'é'),
      userId: field(pick('user-123'), '', 'user 123', 'u'.repeat(129)),
      prompt: field(fc.string({ minLength: 1, maxLength: 20 }), ''),
      lengthSec: field(fc.double({ min: 0.001, max: 1e6, noNaN: true }), 0, -1, '8'),
      resolution: field(
        pick('720p', '720P', ' 1080p ', '1440p', '8k', 'x'.repeat(16)),
        '',
        'x'.repeat(17),
        '720 p',
        '-720p',
      ),
      tier: field(pick('standard', 'Pro', ' free '), '', '1st', 't'.repeat(33)),
      provider: field(pick('auto', 'FAL', ' replicate ', 'veo', ''), 5),
      feature: field(fc.record({ audio: fc.boolean() }, { requiredKeys: [] }), 'audio', { audio: 'yes' }),
      imageUrl: fc.string(),
    },
    { requiredKeys: [] },
  );
  const published = block('schema: submission') as Record<string, unknown>;

  it('given generated details, then the published JSON Schema accepts exactly those intake does not reject as invalid_request', () => {
    fc.assert(
      fc.property(details, (generated) => {
        const detail = JSON.parse(JSON.stringify(generated)); // as it arrives: JSON, no undefined
        const result = validateSubmission(aSubmittedEvent(detail), defaultRoutingTable);
        const structurallyValid = result.ok || result.reason === 'unknown_provider';
        expect(schemaAccepts(published, detail)).toBe(structurallyValid);
      }),
      { numRuns: 2_000 },
    );
  });

  it('given the normalisation the schema describes, then intake records trimmed, lower-cased names and exact identifiers', () => {
    const result = validateSubmission(
      aSubmittedEvent(
        aSubmissionDetail({ jobId: 'Job-ABC', resolution: ' 720P ', tier: 'PRO', provider: ' Fal ' }),
      ),
      defaultRoutingTable,
    );
    expect(result).toMatchObject({
      ok: true,
      submission: { jobId: 'Job-ABC', resolution: '720p', tier: 'pro', provider: 'fal' },
    });
  });
});
