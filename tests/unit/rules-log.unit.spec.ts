import { InMemoryRulesLog } from '../../src/memory/in-memory-rules-log.ts';
import { rulesLogContract } from '../support/rules-log-contract.ts';

rulesLogContract('InMemoryRulesLog', () => new InMemoryRulesLog());
