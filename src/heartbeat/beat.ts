/**
 * The heartbeat's use case: run the self-check and, only when it passes, publish
 * `Agent/RoutingManager` `Heartbeat` = 1 at the scheduled time.
 *
 * On a failed self-check nothing is published and the beat fails with
 * `HeartbeatSelfCheckFailedError` (its reason one of the closed set of the self-check): the
 * missing-heartbeat alarm (TreatMissingData: breaching) pages, the function's Errors metric and the
 * structured log say why.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { HeartbeatConfig } from '../config/heartbeat-config.ts';
import { RoutingManagerError } from '../errors.ts';
import type { HeartbeatPublisher } from '../ports/heartbeat-publisher.ts';
import type { TableProbe } from '../ports/table-probe.ts';
import { runSelfCheck, type SelfCheckFailureReason } from './self-check.ts';

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
  /** Read on every beat: an invalid configuration is what the self-check reports (`config_invalid`). */
  readonly loadConfig: () => HeartbeatConfig;
  readonly logTableProbe: TableProbe;
  readonly publisher: HeartbeatPublisher;
  readonly now: () => Date;
}

export async function beat(
  scheduled: { readonly time: string },
  deps: HeartbeatDependencies,
  logger: Logger,
): Promise<HeartbeatResult> {
  const check = await runSelfCheck(deps);
  if (!check.healthy) {
    logger.error('Self-check failed; heartbeat withheld', { reason: check.reason, detail: check.detail });
    throw new HeartbeatSelfCheckFailedError(check.reason, check.detail);
  }
  // The scheduled event's own time keeps beats on the schedule grid even if the invocation is late.
  const scheduledAt = new Date(scheduled.time);
  const at = Number.isNaN(scheduledAt.getTime()) ? deps.now() : scheduledAt;
  await deps.publisher.publishHeartbeat({ stage: check.config.stage, at });
  logger.info('Heartbeat published', { stage: check.config.stage, at: at.toISOString() });
  return { published: true, stage: check.config.stage, at: at.toISOString() };
}
