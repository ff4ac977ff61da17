import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { routingLogContract } from '../support/routing-log-contract.ts';

routingLogContract('InMemoryRoutingLog', () => new InMemoryRoutingLog());
