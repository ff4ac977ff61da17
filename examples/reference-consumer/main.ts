/**
 * `node examples/reference-consumer/main.ts --queue-url URL [--once]`: the reference consumer as a
 * process, against the live local stack (`npm run local -- --keep`, then paste its export lines) or
 * a deployed one. Reads `JOBS_TABLE`, `EVENT_BUS_NAME` and `LEDGER_TABLE` (its own table, key
 * `jobId`; created when missing, for a local try-out). The "generation" is a stand-in that
 * succeeds: replace `run` with the provider call.
 */
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { type ConsumerSettings, consumerClients, receiveOnce } from './consumer.ts';

const { values } = parseArgs({
  options: { 'queue-url': { type: 'string' }, once: { type: 'boolean', default: false } },
});
const required = (name: string, value: string | undefined): string => {
  if (!value) {
    process.stderr.write(`${name} is required\n`);
    process.exit(2);
  }
  return value;
};

const settings: ConsumerSettings = {
  queueUrl: required('--queue-url', values['queue-url']),
  jobsTable: required('JOBS_TABLE', process.env.JOBS_TABLE),
  eventBusName: required('EVENT_BUS_NAME', process.env.EVENT_BUS_NAME),
  ledgerTable: process.env.LEDGER_TABLE ?? 'ReferenceConsumerLedger',
  run: async () => ({ outcome: 'succeeded' }),
};

const dynamodb = new DynamoDBClient({});
await dynamodb
  .send(
    new CreateTableCommand({
      TableName: settings.ledgerTable,
      AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  .catch((error: unknown) => {
    if (!(error instanceof ResourceInUseException)) throw error;
  })
  .finally(() => dynamodb.destroy());

const clients = consumerClients();
try {
  do {
    for (const handled of await receiveOnce(settings, clients, values.once ? 1 : 20)) {
      process.stdout.write(`${JSON.stringify(handled)}\n`);
    }
  } while (!values.once);
} finally {
  clients.destroy();
}
