/**
 * The DynamoDB adapters against the contract suites their in-memory twins pass
 * (tests/unit/port-contracts.unit.spec.ts), on DynamoDB Local with a freshly provisioned stack.
 */

import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbAuditIndex } from '../../src/aws/dynamodb-audit-index.ts';
import { DynamoDbContentVault } from '../../src/aws/dynamodb-content-vault.ts';
import { DynamoDbCreditBalances } from '../../src/aws/dynamodb-credit-balances.ts';
import { DynamoDbEffectMarkers } from '../../src/aws/dynamodb-effect-markers.ts';
import { DynamoDbJobStatusReader } from '../../src/aws/dynamodb-job-status-reader.ts';
import { DynamoDbJobsTable } from '../../src/aws/dynamodb-jobs-table.ts';
import { DynamoDbProviderHealthStore } from '../../src/aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../../src/aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../../src/aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../../src/aws/dynamodb-slot-ledger.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { WINDOW_MS } from '../../src/provider-health/signal-windows.ts';
import { auditIndexContract } from '../support/audit-index-contract.ts';
import { contentVaultContract } from '../support/content-vault-contract.ts';
import { creditBalancesContract } from '../support/credit-balances-contract.ts';
import { effectMarkersContract } from '../support/effect-markers-contract.ts';
import { jobStatusReaderContract } from '../support/job-status-reader-contract.ts';
import { jobsTableContract } from '../support/jobs-table-contract.ts';
import { appendRecord } from '../support/log-appends.ts';
import { providerHealthContract } from '../support/provider-health-contract.ts';
import { routingLogContract } from '../support/routing-log-contract.ts';
import { rulesLogContract } from '../support/rules-log-contract.ts';
import { signalWindowsContract } from '../support/signal-windows-contract.ts';
import { slotLedgerContract } from '../support/slot-ledger-contract.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
const documents = createDocumentClient();

beforeAll(async () => {
  stack = await aProvisionedStack();
});
afterAll(() => documents.destroy());

const routingLog = () => new DynamoDbRoutingLog(documents, stack.tables.routingLog);

routingLogContract('DynamoDbRoutingLog on DynamoDB Local', routingLog);

rulesLogContract(
  'DynamoDbRulesLog on DynamoDB Local',
  () => new DynamoDbRulesLog(documents, stack.tables.routingLog),
);

providerHealthContract('DynamoDbProviderHealthStore on DynamoDB Local', () => ({
  store: new DynamoDbProviderHealthStore(documents, {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  }),
  log: routingLog(),
}));

creditBalancesContract('DynamoDbCreditBalances on DynamoDB Local', async (balances) => {
  for (const [userId, balance] of Object.entries(balances)) {
    await documents.send(new PutCommand({ TableName: stack.tables.credits, Item: { userId, balance } }));
  }
  return new DynamoDbCreditBalances(documents, stack.tables.credits);
});

// Several scan segments with pages of 2 items, so finding a user's content crosses pages and
// segments even in a small table (in production: USER_SCAN_SEGMENTS segments, 1 MB pages).
contentVaultContract(
  'DynamoDbContentVault on DynamoDB Local',
  () =>
    new DynamoDbContentVault(documents, stack.tables.content, { userScanSegments: 3, userScanPageSize: 2 }),
);
contentVaultContract(
  'DynamoDbContentVault on DynamoDB Local (production scan settings)',
  () => new DynamoDbContentVault(documents, stack.tables.content),
);

jobStatusReaderContract('DynamoDbJobStatusReader on DynamoDB Local', async (items) => {
  if (items.length > 0) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: { [stack.tables.jobs]: items.map((item) => ({ PutRequest: { Item: item } })) },
      }),
    );
  }
  return new DynamoDbJobStatusReader(documents, stack.tables.jobs);
});

auditIndexContract('DynamoDbAuditIndex on DynamoDB Local', async (records) => {
  const log = new DynamoDbRoutingLog(documents, stack.tables.routingLog);
  for (const record of records) await appendRecord(log, record);
  return new DynamoDbAuditIndex(documents, stack.tables.routingLog);
});

jobsTableContract('DynamoDbJobsTable on DynamoDB Local', () => {
  const TableName = stack.tables.jobs;
  return {
    jobs: new DynamoDbJobsTable(documents, TableName),
    seed: async (Item) => void (await documents.send(new PutCommand({ TableName, Item }))),
    remove: async (jobId) => void (await documents.send(new DeleteCommand({ TableName, Key: { jobId } }))),
    item: async (jobId) =>
      (await documents.send(new GetCommand({ TableName, Key: { jobId }, ConsistentRead: true }))).Item,
  };
});

effectMarkersContract(
  'DynamoDbEffectMarkers on DynamoDB Local',
  () => new DynamoDbEffectMarkers(documents, stack.tables.effects, { ttlDays: 7, now: () => new Date() }),
);

slotLedgerContract(
  'DynamoDbSlotLedger on DynamoDB Local',
  () => new DynamoDbSlotLedger(documents, stack.tables.providerHealth),
);

signalWindowsContract(
  'DynamoDbSignalWindows on DynamoDB Local',
  () => new DynamoDbSignalWindows(documents, stack.tables.providerHealth, { windowMs: WINDOW_MS }),
);
