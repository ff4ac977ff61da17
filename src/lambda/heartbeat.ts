/**
 * The heartbeat Lambda's entry (template.yaml: `heartbeat.handler`). Clients live for the execution
 * environment, created at init; the configuration is read on every beat, because an invalid one is
 * what the self-check reports (`config_invalid`) instead of failing the init. Everything else
 * imports the side-effect-free factory, src/handlers/heartbeat.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sdkClientDefaults } from '../aws/clients.ts';
import { CloudWatchHeartbeatPublisher } from '../aws/cloudwatch-heartbeat-publisher.ts';
import { DynamoDbTableProbe } from '../aws/dynamodb-table-probe.ts';
import { loadHeartbeatConfig } from '../config/heartbeat-config.ts';
import { createHeartbeatHandler } from '../handlers/heartbeat.ts';

// The SDK reads region and endpoints from the environment.
export const handler = createHeartbeatHandler({
  loadConfig: () => loadHeartbeatConfig(process.env),
  logTableProbe: new DynamoDbTableProbe(new DynamoDBClient({ ...sdkClientDefaults })),
  publisher: new CloudWatchHeartbeatPublisher(new CloudWatchClient({ ...sdkClientDefaults })),
  logger: new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'routing-manager' }),
  now: () => new Date(),
});
