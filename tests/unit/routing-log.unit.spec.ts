import { InMemoryRoutingLog } from '../../src/log/routing-log.ts';
import { routingLogContract } from '../support/routing-log-contract.ts';

routingLogContract('InMemoryRoutingLog', () => new InMemoryRoutingLog());
