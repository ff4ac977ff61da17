/** docs/EVENT_SCHEMA.md cannot drift: its examples are checked against the real schema and builders. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { REJECTION_REASONS } from '../../src/intake/reason-codes.ts';
import { jobSubmissionSchema, validateSubmission } from '../../src/intake/submission.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { aNoRouteRecord, anInvalidRequestRecord, aRoutedRecord } from '../support/records.ts';

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
    expect(validateSubmission(block('example: inbound') as never)).toMatchObject({ ok: true });
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
