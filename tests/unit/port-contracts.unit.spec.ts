/** The in-memory twins against the contract suites their DynamoDB adapters pass (tests/integration/port-contracts.int.spec.ts). */
import { InMemoryAuditIndex } from '../../src/memory/in-memory-audit-index.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryEffectMarkers } from '../../src/memory/in-memory-effect-markers.ts';
import { InMemoryJobStatusReader } from '../../src/memory/in-memory-job-status-reader.ts';
import { InMemoryJobsTable } from '../../src/memory/in-memory-jobs-table.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemoryRulesLog } from '../../src/memory/in-memory-rules-log.ts';
import { InMemorySignalWindows } from '../../src/memory/in-memory-signal-windows.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import { auditIndexContract } from '../support/audit-index-contract.ts';
import { contentVaultContract } from '../support/content-vault-contract.ts';
import { creditBalancesContract } from '../support/credit-balances-contract.ts';
import { effectMarkersContract } from '../support/effect-markers-contract.ts';
import { jobStatusReaderContract } from '../support/job-status-reader-contract.ts';
import { jobsTableContract } from '../support/jobs-table-contract.ts';
import { providerHealthContract } from '../support/provider-health-contract.ts';
import { routingLogContract } from '../support/routing-log-contract.ts';
import { rulesLogContract } from '../support/rules-log-contract.ts';
import { signalWindowsContract } from '../support/signal-windows-contract.ts';
import { slotLedgerContract } from '../support/slot-ledger-contract.ts';

routingLogContract('InMemoryRoutingLog', () => new InMemoryRoutingLog());
rulesLogContract('InMemoryRulesLog', () => new InMemoryRulesLog());
providerHealthContract('InMemoryProviderHealthStore', () => {
  const log = new InMemoryRoutingLog();
  return { store: new InMemoryProviderHealthStore(log), log };
});
creditBalancesContract('InMemoryCreditBalances', (balances) => new InMemoryCreditBalances(balances));
contentVaultContract('InMemoryContentVault', () => new InMemoryContentVault());
jobStatusReaderContract('InMemoryJobStatusReader', (items) => new InMemoryJobStatusReader(items));
auditIndexContract('InMemoryAuditIndex', (records) => {
  const index = new InMemoryAuditIndex();
  for (const record of records) index.index(record);
  return index;
});
jobsTableContract('InMemoryJobsTable', () => {
  const jobs = new InMemoryJobsTable();
  return {
    jobs,
    seed: async (item) => void jobs.items.set(item.jobId as string, structuredClone(item)),
    remove: async (jobId) => void jobs.items.delete(jobId),
    item: async (jobId) => structuredClone(jobs.items.get(jobId)),
  };
});
effectMarkersContract('InMemoryEffectMarkers', () => new InMemoryEffectMarkers());
slotLedgerContract('InMemorySlotLedger', () => new InMemorySlotLedger());

signalWindowsContract('InMemorySignalWindows', () => new InMemorySignalWindows());
