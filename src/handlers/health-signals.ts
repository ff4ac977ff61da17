/**
 * HealthSignals Lambda handler: target of the EventBridge rule for `source: provider.invoker`,
 * `provider.attempt.completed` / `provider.status.changed` / `provider.job.started`. Adapts the event
 * into a breaker command and hands it to HandleProviderSignal (src/commands/handle-provider-signal.ts):
 * the breaker, the slot, and the job's stream (outcome or re-routing). A malformed signal is
 * logged (paths only, never values) and dropped: retrying cannot fix it. A thrown error (DynamoDB
 * unavailable, contention) goes back to EventBridge's retry; the dedupe marker makes it safe.
 *
 * No side effect at import: the Lambda entry (src/lambda/health-signals.ts) wires it from
 * process.env at init; the local runner and tests pass a config of their own.
 */

import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import { SqsHoldBacklog } from '../aws/sqs-hold-backlog.ts';
import {
  type HandleProviderSignalDependencies,
  type HandleProviderSignalResult,
  handleJobStarted,
  handleProviderSignal,
} from '../commands/handle-provider-signal.ts';
import type { HealthSignalsConfig } from '../config/health-signals-config.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { CachedHealthReader } from '../provider-health/health-cache.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';
import { JOB_STARTED_DETAIL_TYPE, parseHealthSignal, type SignalEvent } from '../provider-health/signals.ts';
import {
  type CountSignalResult,
  SignalWindowCounter,
  type SignalWindowDependencies,
} from '../provider-health/window-counting.ts';
import { defaultRoutingTable } from '../routing/default-table.ts';
import { CachedActiveRules } from '../rules/active-rules.ts';
import { lambdaTelemetry } from './middlewares.ts';
import { etaReader } from './router.ts';
import { measureJobStarted, refuseSignal, signalReporter } from './signal-reports.ts';

/** How long the function reuses its read of the published rules (re-routing decisions). */
const RULES_CACHE_MS = 10_000;

export type HealthSignalsResponse =
  | HandleProviderSignalResult
  | { readonly outcome: 'refused'; readonly problem: string }
  /** A `provider.job.started`: measured (queue wait), changing no breaker and no slot. */
  | {
      readonly outcome: 'observed';
      readonly provider: string;
      readonly queueWaitMs: number;
      readonly window?: CountSignalResult;
    };

export type HealthSignalsDependencies = Omit<HandleProviderSignalDependencies, 'windows'> & {
  /** The event-time signal windows every signal is counted in; absent: none are kept. */
  readonly windows?: SignalWindowDependencies;
};

/**
 * The function: a job-started event is measured; any other signal is read into a breaker command and
 * handed to HandleProviderSignal (src/commands/handle-provider-signal.ts), whose every step is
 * reported as it is taken (src/handlers/signal-reports.ts).
 */
export function createHealthSignalsHandler(deps: HealthSignalsDependencies, telemetry: Telemetry) {
  // One counter per function instance: it throttles the closing of due windows in this container.
  const { windows, ...rest } = deps;
  const commandDeps: HandleProviderSignalDependencies = {
    ...rest,
    ...(windows ? { windows: new SignalWindowCounter(windows) } : {}),
  };
  return middy<SignalEvent, HealthSignalsResponse>()
    .use(lambdaTelemetry(telemetry))
    .handler(async (event): Promise<HealthSignalsResponse> => {
      if (event['detail-type'] === JOB_STARTED_DETAIL_TYPE) {
        const measured = measureJobStarted(event, telemetry);
        if (measured.outcome === 'refused') return measured;
        const window = await handleJobStarted(
          measured.started,
          event.time,
          commandDeps,
          signalReporter(event, null, telemetry),
        );
        return { ...measured.response, ...(window ? { window } : {}) };
      }
      const parsed = parseHealthSignal(event);
      if (!parsed.ok) return refuseSignal(event, parsed, telemetry);
      return handleProviderSignal(
        parsed.signal,
        commandDeps,
        signalReporter(event, parsed.signal, telemetry),
      );
    });
}

/** The function's AWS adapters for a validated configuration. */
export function healthSignalsDependencies(config: HealthSignalsConfig): HealthSignalsDependencies {
  const client = createDocumentClient();
  const store = new DynamoDbProviderHealthStore(client, {
    health: config.providerHealthTable,
    log: config.eventLogTable,
  });
  const rules = new CachedActiveRules(new DynamoDbRulesLog(client, config.eventLogTable), {
    defaultTable: defaultRoutingTable,
    ttlMs: RULES_CACHE_MS,
    now: Date.now,
  });
  const ledger = new DynamoDbSlotLedger(client, config.providerHealthTable);
  const backlog = config.holdQueueUrl
    ? new SqsHoldBacklog(new SQSClient({}), config.holdQueueUrl)
    : undefined;
  return {
    store,
    slots: { ledger, rules, ...(backlog ? { backlog } : {}) },
    windows: {
      windows: new DynamoDbSignalWindows(client, config.providerHealthTable, { windowMs: WINDOW_MS }),
      now: Date.now,
    },
    revise: {
      // With the hold backlog, a re-routing that finds every candidate left full is held, as a first
      // decision would be; quotes are read when the rules ask for them (prefer, maxEtaSec).
      capacity: { ledger, ...(backlog ? { backlog } : {}) },
      eta: { reader: etaReader(client, config.providerHealthTable, 5) },
      log: new DynamoDbRoutingLog(client, config.eventLogTable),
      rules,
      // Read fresh: a re-routing follows a failure, exactly when health is changing.
      health: { reader: new CachedHealthReader(store, { ttlMs: 0 }), store },
    },
  };
}
