/**
 * Scheduled (rate 5 minutes) heartbeat: runs the self-check and, only when it passes, publishes
 * `Agent/RoutingManager` `Heartbeat` = 1.
 *
 * On a failed self-check nothing is published and the invocation fails with
 * `HeartbeatSelfCheckFailedError`: the missing-heartbeat alarm (TreatMissingData: breaching) pages,
 * the function's Errors metric and the structured log say why. Retries are off for this function
 * (EventInvokeConfig MaximumRetryAttempts 0 in template.yaml): the next tick is five minutes away.
 *
 * No side effect at import: the Lambda entry is src/lambda/heartbeat.ts.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import type { HeartbeatConfig } from '../config/heartbeat-config.ts';
import { RoutingManagerError } from '../errors.ts';
import { runSelfCheck, type SelfCheckFailureReason } from '../heartbeat/self-check.ts';
import type { HeartbeatPublisher } from '../ports/heartbeat-publisher.ts';
import type { TableProbe } from '../ports/table-probe.ts';

export class HeartbeatSelfCheckFailedError extends RoutingManagerError {
  declare readonly reason: SelfCheckFailureReason;
  constructor(reason: SelfCheckFailureReason, detail: string) {
    super(reason, `Heartbeat withheld, self-check failed (${reason}): ${detail}`);
    this.name = 'HeartbeatSelfCheckFailedError';
  }
}

export interface HeartbeatResult {
  readonly published: true;
  readonly stage: string;
  readonly at: string;
}

export interface HeartbeatDependencies {
  readonly loadConfig: () => HeartbeatConfig;
  readonly logTableProbe: TableProbe;
  readonly publisher: HeartbeatPublisher;
  readonly logger: Logger;
  readonly now: () => Date;
}

export function createHeartbeatHandler(dependencies: HeartbeatDependencies) {
  const { logger } = dependencies;
  const beat = async (event: ScheduledEvent): Promise<HeartbeatResult> => {
    const check = await runSelfCheck(dependencies);
    if (!check.healthy) {
      logger.error('Self-check failed; heartbeat withheld', { reason: check.reason, detail: check.detail });
      throw new HeartbeatSelfCheckFailedError(check.reason, check.detail);
    }
    // The scheduled event's own time keeps beats on the schedule grid even if the invocation is late.
    const scheduledAt = new Date(event.time);
    const at = Number.isNaN(scheduledAt.getTime()) ? dependencies.now() : scheduledAt;
    await dependencies.publisher.publishHeartbeat({ stage: check.config.stage, at });
    logger.info('Heartbeat published', { stage: check.config.stage, at: at.toISOString() });
    return { published: true, stage: check.config.stage, at: at.toISOString() };
  };
  return middy<ScheduledEvent, HeartbeatResult>().use(injectLambdaContext(logger)).handler(beat);
}
