import { InMemoryRoutingLog } from '../../src/log/routing-log.ts';
import { InMemoryProviderHealthStore } from '../../src/provider-health/health-store.ts';
import { providerHealthContract } from '../support/provider-health-contract.ts';

providerHealthContract('InMemoryProviderHealthStore', () => {
  const log = new InMemoryRoutingLog();
  return { store: new InMemoryProviderHealthStore(log), log };
});
