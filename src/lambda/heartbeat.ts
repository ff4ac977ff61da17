/**
 * The heartbeat Lambda's entry (template.yaml: `heartbeat.handler`). Clients live for the execution
 * environment, created at init; the configuration is read on every beat, because an invalid one is
 * what the self-check reports (`config_invalid`) instead of failing the init. Everything else
 * imports the side-effect-free factory, src/handlers/heartbeat.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadHeartbeatConfig } from '../config/heartbeat-config.ts';
import { createHeartbeatHandler, heartbeatDependencies } from '../handlers/heartbeat.ts';

export const handler = createHeartbeatHandler(
  heartbeatDependencies(() => loadHeartbeatConfig(process.env)),
  { logger: new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'routing-manager' }) },
);
