/**
 * `node examples/direct-signals/main.ts --queue-url URL FILE…`: sends the signals of each FILE (one
 * event, or an array of events, as docs/EVENT_SCHEMA.md shows them) straight to HealthSignalsQueue
 * with SendMessageBatch (./signal-sender.ts), against the live local stack (`npm run local -- --keep`,
 * then paste its export lines: `HEALTH_SIGNALS_QUEUE_URL`) or a deployed one (the stack output
 * `HealthSignalsQueueUrl`, with a role named in `SignalInvokerPrincipalArns`). Prints one JSON line
 * per event: `sent` with SQS's message id, or `failed` with the code and whether a later retry may
 * succeed. Exit 0: every event sent; 1: some not; 2: bad arguments or a file that is not JSON.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { sendSignals } from './signal-sender.ts';

const usage = (problem: string): never => {
  process.stderr.write(`${problem}\nusage: node examples/direct-signals/main.ts --queue-url URL FILE…\n`);
  process.exit(2);
};

const { values, positionals } = parseArgs({
  options: { 'queue-url': { type: 'string' } },
  allowPositionals: true,
});
const queueUrl = values['queue-url'] || usage('--queue-url is required');
if (positionals.length === 0) usage('name at least one file of signals');

const events: unknown[] = [];
for (const file of positionals) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    usage(`${file}: not a readable JSON file (${error instanceof Error ? error.name : 'error'})`);
  }
  events.push(...(Array.isArray(parsed) ? parsed : [parsed]));
}

const sqs = new SQSClient({});
try {
  const results = await sendSignals(sqs, queueUrl, events);
  for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = results.every((result) => result.status === 'sent') ? 0 : 1;
} finally {
  sqs.destroy();
}
