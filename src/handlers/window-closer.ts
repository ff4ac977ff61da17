/**
 * WindowCloser Lambda handler: scheduled every minute (template.yaml). It closes the due signal
 * windows of every provider/model pair of the active routing table and has each pair's breaker
 * judge them, then keeps doing so as windows fall due until its budget is spent
 * (src/commands/close-windows-on-time.ts) — so a breaker's opening rules are judged on time even
 * when no later signal of the pair arrives. Transitions are reported exactly as the HealthSignals
 * function reports them (src/handlers/signal-reports.ts).
 *
 * No side effect at import: the Lambda entry is src/lambda/window-closer.ts.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../aws/dynamodb-signal-windows.ts';
import {
  type CloseWindowsOnTimeDependencies,
  type CloseWindowsOnTimeResult,
  closeWindowsOnTime,
} from '../commands/close-windows-on-time.ts';
import type { WindowCloserConfig } from '../config/window-closer-config.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { pairsOf } from '../provider-health/eta-cache.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { CachedActiveRules, type RulesReader } from '../rules/active-rules.ts';
import { lambdaTelemetry } from './middlewares.ts';
import { signalReporter } from './signal-reports.ts';

/** How long one run keeps closing windows as they fall due: below the function's 60 s timeout. */
export const CLOSER_BUDGET_MS = 50_000;

export type WindowCloserDependencies = CloseWindowsOnTimeDependencies & {
  /** Whose pairs are closed: the active routing table's (published, or the bundled default). */
  readonly rules: RulesReader;
  readonly budgetMs?: number;
};

export interface WindowCloserResponse {
  readonly pairs: number;
  readonly rounds: number;
  readonly closed: number;
}

export function createWindowCloserHandler(deps: WindowCloserDependencies, telemetry: Telemetry) {
  return middy<ScheduledEvent, WindowCloserResponse>()
    .use(lambdaTelemetry(telemetry))
    .handler(async (event): Promise<WindowCloserResponse> => {
      const { table } = await deps.rules.current();
      const pairs = pairsOf(table.providers);
      const report = signalReporter(event, null, telemetry);
      const result: CloseWindowsOnTimeResult = await closeWindowsOnTime(
        pairs,
        deps,
        { budgetMs: deps.budgetMs ?? CLOSER_BUDGET_MS },
        report,
      );
      if (result.closed.length > 0) {
        telemetry.metrics.addMetric('SignalWindowsClosedOnSchedule', MetricUnit.Count, result.closed.length);
      }
      telemetry.logger.debug('signal windows closed on schedule', {
        pairs: pairs.length,
        rounds: result.rounds,
        closed: result.closed.length,
      });
      return { pairs: pairs.length, rounds: result.rounds, closed: result.closed.length };
    });
}

/** The function's AWS adapters for a validated configuration. */
export function windowCloserDependencies(config: WindowCloserConfig): WindowCloserDependencies {
  const client = createDocumentClient();
  return {
    store: new DynamoDbProviderHealthStore(client, {
      health: config.providerHealthTable,
      log: config.eventLogTable,
    }),
    windows: {
      windows: new DynamoDbSignalWindows(client, config.providerHealthTable, { windowMs: WINDOW_MS }),
      now: Date.now,
    },
    rules: new CachedActiveRules(new DynamoDbRulesLog(client, config.eventLogTable), {
      defaultTable: defaultRoutingTable,
      ttlMs: 60_000,
      now: Date.now,
    }),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
