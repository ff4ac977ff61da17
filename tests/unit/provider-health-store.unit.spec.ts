import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { providerHealthContract } from '../support/provider-health-contract.ts';

providerHealthContract('InMemoryProviderHealthStore', () => {
  const log = new InMemoryRoutingLog();
  return { store: new InMemoryProviderHealthStore(log), log };
});
