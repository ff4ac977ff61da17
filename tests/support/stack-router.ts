/**
 * The router's dependencies over a provisioned local stack, as `src/lambda/router.ts` wires them
 * in production: the routing log, credit balances and content vault on DynamoDB Local, the keys on
 * moto KMS, the default table. Tests override what they vary (the clock, the id source, the rules).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbContentVault } from '../../src/aws/dynamodb-content-vault.ts';
import { DynamoDbCreditBalances } from '../../src/aws/dynamodb-credit-balances.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import type { RouteJobDependencies } from '../../src/commands/route-job.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { routerContentPorts } from './content.ts';

export function routerPortsOn(
  stack: LocalStack,
  documents: DynamoDBDocumentClient,
  overrides: Partial<RouteJobDependencies> = {},
): RouteJobDependencies {
  return {
    log: new DynamoDbRoutingLog(documents, stack.tables.routingLog),
    credits: new DynamoDbCreditBalances(documents, stack.tables.credits),
    table: defaultRoutingTable,
    ...routerContentPorts(stack, new DynamoDbContentVault(documents, stack.tables.content)),
    now: () => new Date(),
    newId: () => 'unused',
    ...overrides,
  };
}
