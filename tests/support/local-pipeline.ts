/**
 * A stand-in for `runLocal` (the emulator pipeline), so `npm run local`'s command line — arguments,
 * inputs, printing, --keep, failures — is specified without emulators. It records what it was asked
 * and returns the results it was given.
 */
import type { RunningEmulators } from '../../src/local/emulators.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import type { LocalEventResult, LocalRun, RunLocalOptions } from '../../src/local/run-local.ts';

export function aLocalEventResult(overrides: Partial<LocalEventResult> = {}): LocalEventResult {
  return {
    origin: '/samples/submitted-fal.json',
    eventId: 'evt-1',
    jobId: 'job-1',
    outcome: 'routed',
    provider: 'fal',
    model: 'wan-i2v',
    queue: 'FalJobQueue',
    reason: null,
    effects: { messages: 1, events: 1, jobStatus: 'ROUTED' },
    ...overrides,
  };
}

export function aLocalStack(stage = 'local'): LocalStack {
  return {
    stage,
    tables: {
      routingLog: `RoutingLog-${stage}`,
      effects: `RoutingEffects-${stage}`,
      jobs: `Jobs-${stage}`,
      credits: `Credits-${stage}`,
      content: `RoutingContent-${stage}`,
      providerHealth: `ProviderHealth-${stage}`,
    },
    routingLogStreamArn: `arn:aws:dynamodb:us-east-1:000000000000:table/RoutingLog-${stage}/stream/x`,
    queues: {
      fal: `http://127.0.0.1:5000/000000000000/FalJobQueue-${stage}`,
      replicate: `http://127.0.0.1:5000/000000000000/ReplicateJobQueue-${stage}`,
      announcements: `http://127.0.0.1:5000/000000000000/Announcements-${stage}`,
      hold: `http://127.0.0.1:5000/000000000000/RoutingHoldQueue-${stage}`,
      healthSignals: `http://127.0.0.1:5000/000000000000/RoutingHealthSignals-${stage}`,
    },
    batchSizes: { holds: 10, healthSignals: 100 },
    eventBusName: 'default',
    keys: {
      content: 'arn:aws:kms:us-east-1:000000000000:key/content',
      payloadHash: 'arn:aws:kms:us-east-1:000000000000:key/payload-hash',
    },
    routingEventsLogGroup: `/aws/events/RoutingManager-${stage}`,
  };
}

/** Emulators that only count how often they were stopped. */
export function aStoppableEmulators(): RunningEmulators & { readonly stops: () => number } {
  let stops = 0;
  return {
    endpoints: { dynamodb: 'http://127.0.0.1:8000', moto: 'http://127.0.0.1:5000' },
    stop: async () => {
      stops++;
    },
    stops: () => stops,
  };
}

export interface FakePipeline {
  readonly runLocal: (options: RunLocalOptions) => Promise<LocalRun>;
  /** The options of every run, in order. */
  readonly runs: RunLocalOptions[];
  /** How often a run's `stop()` was called. */
  stops(): number;
}

export function aFakePipeline(
  options: {
    results?: readonly LocalEventResult[];
    environment?: Record<string, string>;
    /** Emulators the run "starts" (reported through onEmulatorsStarted) before it returns or fails. */
    starts?: RunningEmulators;
    fails?: unknown;
  } = {},
): FakePipeline {
  const runs: RunLocalOptions[] = [];
  let stops = 0;
  return {
    runs,
    stops: () => stops,
    runLocal: async (run) => {
      runs.push(run);
      if (options.starts) run.onEmulatorsStarted?.(options.starts);
      run.progress?.('provisioning stage local');
      if (options.fails !== undefined) throw options.fails;
      return {
        results: [...(options.results ?? [aLocalEventResult()])],
        stack: aLocalStack(run.stage),
        endpoints: { dynamodb: 'http://127.0.0.1:8000', moto: 'http://127.0.0.1:5000' },
        environment: options.environment ?? { EVENT_LOG_TABLE: `RoutingLog-${run.stage}` },
        stop: async () => {
          stops++;
        },
      };
    },
  };
}
