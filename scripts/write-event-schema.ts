/**
 * Writes the JSON Schema of the inbound `detail` into docs/EVENT_SCHEMA.md, generated from the zod
 * schema that validates it (`npm run docs:schema`). tests/unit/event-schema-doc.unit.spec.ts fails
 * when the pasted block and the schema differ, so the docs cannot drift from the code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { jobSubmissionSchema } from '../src/intake/submission.ts';

const MARKER = '<!-- schema: submission -->';
const path = fileURLToPath(new URL('../docs/EVENT_SCHEMA.md', import.meta.url));
const doc = readFileSync(path, 'utf8');
const schema = JSON.stringify(
  z.toJSONSchema(jobSubmissionSchema, { io: 'input', unrepresentable: 'any' }),
  null,
  2,
);
const updated = doc.replace(
  new RegExp(`${MARKER}\\s*\`\`\`json\\n[\\s\\S]*?\\n\`\`\``),
  `${MARKER}\n\`\`\`json\n${schema}\n\`\`\``,
);
if (updated === doc && !doc.includes(schema)) throw new Error(`no JSON block after ${MARKER} in ${path}`);
writeFileSync(path, updated);
process.stdout.write(`${path}: JSON Schema of detail written\n`);
