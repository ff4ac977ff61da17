import { InMemoryRulesLog } from '../../src/rules/rules-log.ts';
import { rulesLogContract } from '../support/rules-log-contract.ts';

rulesLogContract('InMemoryRulesLog', () => new InMemoryRulesLog());
