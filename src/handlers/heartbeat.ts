/**
 * Scheduled (rate 5 minutes) heartbeat: the same factory shape as every handler —
 * `createHeartbeatHandler(dependencies, telemetry)`, its body the use case (`beat`,
 * src/heartbeat/beat.ts), and `heartbeatDependencies` for the function's AWS adapters.
 * Retries are off for this function (EventInvokeConfig MaximumRetryAttempts 0 in template.yaml): the
 * next tick is five minutes away.
 *
 * No side effect at import: the Lambda entry is src/lambda/heartbeat.ts.
 */

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { sdkClientDefaults } from '../aws/clients.ts';
import { CloudWatchHeartbeatPublisher } from '../aws/cloudwatch-heartbeat-publisher.ts';
import { DynamoDbTableProbe } from '../aws/dynamodb-table-probe.ts';
import type { HeartbeatConfig } from '../config/heartbeat-config.ts';
import { beat, type HeartbeatDependencies, type HeartbeatResult } from '../heartbeat/beat.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { lambdaTelemetry } from './middlewares.ts';

/** The heartbeat counts nothing of its own (the beat is a PutMetricData): its telemetry is a logger. */
export function createHeartbeatHandler(deps: HeartbeatDependencies, telemetry: Pick<Telemetry, 'logger'>) {
  return middy<ScheduledEvent, HeartbeatResult>()
    .use(lambdaTelemetry(telemetry))
    .handler((event) => beat(event, deps, telemetry.logger));
}

/**
 * The function's AWS adapters. The configuration is a loader, read on every beat, because an invalid
 * one is what the self-check reports instead of failing the init; the SDK reads region and endpoints
 * from the environment.
 */
export function heartbeatDependencies(loadConfig: () => HeartbeatConfig): HeartbeatDependencies {
  return {
    loadConfig,
    logTableProbe: new DynamoDbTableProbe(new DynamoDBClient({ ...sdkClientDefaults })),
    publisher: new CloudWatchHeartbeatPublisher(new CloudWatchClient({ ...sdkClientDefaults })),
    now: () => new Date(),
  };
}
