/**
 * Writes the published JSON Schemas into docs/EVENT_SCHEMA.md, generated from the zod schemas that
 * validate the events (`npm run docs:schema`): the inbound submission's `detail`, and the `detail` of
 * the provider signals `provider.attempt.completed` and `provider.job.started`.
 * tests/unit/event-schema-doc.unit.spec.ts and health-schema-doc.unit.spec.ts fail when a pasted
 * block and its schema differ, so the docs cannot drift from the code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { jobSubmissionSchema } from '../src/intake/submission.ts';
import { attemptCompletedSchema, jobStartedSchema } from '../src/provider-health/signals.ts';

const path = fileURLToPath(new URL('../docs/EVENT_SCHEMA.md', import.meta.url));
let doc = readFileSync(path, 'utf8');
const published: [string, z.core.$ZodType][] = [
  ['submission', jobSubmissionSchema],
  ['attempt-completed', attemptCompletedSchema],
  ['job-started', jobStartedSchema],
];
for (const [name, source] of published) {
  const marker = `<!-- schema: ${name} -->`;
  const schema = JSON.stringify(z.toJSONSchema(source, { io: 'input', unrepresentable: 'any' }), null, 2);
  const updated = doc.replace(
    new RegExp(`${marker}\\s*\`\`\`json\\n[\\s\\S]*?\\n\`\`\``),
    `${marker}\n\`\`\`json\n${schema}\n\`\`\``,
  );
  if (updated === doc && !doc.includes(schema)) throw new Error(`no JSON block after ${marker} in ${path}`);
  doc = updated;
}
writeFileSync(path, doc);
process.stdout.write(`${path}: JSON Schemas of ${published.map(([name]) => name).join(', ')} written\n`);
