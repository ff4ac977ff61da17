/**
 * `npm run local`: the whole pipeline on this machine, with the real handlers.
 *
 *   emulators (DynamoDB Local + moto) → provision the stack → the REAL router handler per event →
 *   the log's stream polled like the Lambda event source mapping → the REAL projector handler →
 *   settled → read back what landed (provider queues, captured announcements, Jobs table).
 *
 * Testable: `runLocal` returns the per-event results and a handle to stop what it started; the
 * command line (src/local/main.ts) only parses arguments and prints.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbJobStatusReader } from '../aws/dynamodb-job-status.ts';
import type { DecisionRecord } from '../log/routing-records.ts';
import { REJECTED_DETAIL_TYPE, ROUTED_DETAIL_TYPE } from '../projections/effects.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import {
  type EmulatorEndpoints,
  emulatorEnvironment,
  type RunningEmulators,
  startEmulators,
} from './emulators.ts';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from './provision.ts';
import { announcementOf, peekQueue, readBackClients } from './read-back.ts';
import { DynamoDbStreamPoller } from './stream-poller.ts';
import type { SubmittedInput } from './submitted-events.ts';

export type LocalOutcome = 'routed' | 'rejected' | 'duplicate';

export interface LocalEventResult {
  readonly origin: string;
  readonly eventId: string | null;
  readonly jobId: string | null;
  readonly outcome: LocalOutcome;
  readonly provider: string | null;
  readonly model: string | null;
  readonly queue: string | null;
  /** The rejection reason; `conflicting_duplicate` for a jobId re-submitted with another payload. */
  readonly reason: string | null;
  readonly effects: {
    /** Messages for this job on its provider queue (for a rejection: on any provider queue). */
    readonly messages: number;
    /** `video.job.routed` / `video.job.rejected` announcements captured for this job. */
    readonly events: number;
    /** The job's status in Jobs-<Stage>, or null when it has no item. */
    readonly jobStatus: string | null;
  };
}

export interface RunLocalOptions {
  readonly inputs: readonly SubmittedInput[];
  readonly stage: string;
  /** userId → balance, written to Credits-<Stage> before routing. */
  readonly credits?: Readonly<Record<string, number>>;
  /** Emulators already running (the tests'); absent: start them, and stop them in `stop()`. */
  readonly emulators?: EmulatorEndpoints;
  /** Called as soon as emulators were started here, so a caller can stop them on a signal. */
  readonly onEmulatorsStarted?: (emulators: RunningEmulators) => void;
  /** How emulators are started when none are given (the real DynamoDB Local + moto by default). */
  readonly startEmulators?: () => Promise<RunningEmulators>;
  readonly progress?: (message: string) => void;
  /** How long the stream may take to settle. */
  readonly settleTimeoutMs?: number;
  readonly table?: RoutingTable;
}

export interface LocalRun {
  readonly results: LocalEventResult[];
  readonly stack: LocalStack;
  readonly endpoints: EmulatorEndpoints;
  /** Everything a shell needs to point the AWS CLI or `routing-manager` at this stack. */
  readonly environment: Readonly<Record<string, string>>;
  /** Stops the emulators if this run started them. */
  stop(): Promise<void>;
}

export async function runLocal(options: RunLocalOptions): Promise<LocalRun> {
  const progress = options.progress ?? (() => undefined);
  let running: RunningEmulators | null = null;
  let endpoints = options.emulators;
  if (!endpoints) {
    progress('starting emulators (DynamoDB Local, moto)');
    running = await (options.startEmulators ?? startEmulators)();
    options.onEmulatorsStarted?.(running);
    endpoints = running.endpoints;
  }
  const stop = async () => {
    await running?.stop();
    running = null;
  };
  try {
    // The SDK reads only its standard variables: the handlers need no local-specific code.
    Object.assign(process.env, emulatorEnvironment(endpoints));
    progress(`provisioning stage ${options.stage}`);
    const stack = await provisionLocalStack({ stage: options.stage });
    const environment = { ...emulatorEnvironment(endpoints), ...handlerEnvironment(stack) };
    Object.assign(process.env, environment);
    if (options.credits) await seedCredits(stack.tables.credits, options.credits);

    const results = await routeAndProject(stack, options, progress);
    return { results, stack, endpoints, environment, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function seedCredits(tableName: string, credits: Readonly<Record<string, number>>) {
  const documents = createDocumentClient();
  try {
    for (const [userId, balance] of Object.entries(credits)) {
      await documents.send(new PutCommand({ TableName: tableName, Item: { userId, balance } }));
    }
  } finally {
    documents.destroy();
  }
}

async function routeAndProject(
  stack: LocalStack,
  options: RunLocalOptions,
  progress: (message: string) => void,
): Promise<LocalEventResult[]> {
  // Imported only now: both handler modules validate their environment when loaded.
  const { createRouterHandler, routerDependenciesFromEnvironment } = await import('../handlers/router.ts');
  const { createProjectorHandler, portsFromEnvironment } = await import('../handlers/projector.ts');
  const { createTelemetry } = await import('../observability/telemetry.ts');
  const { aLocalLambdaContext } = await import('./lambda-context.ts');

  const documents = createDocumentClient();
  const routerDependencies = routerDependenciesFromEnvironment(handlerEnvironment(stack), {
    ...(options.table ? { table: options.table } : {}),
    client: documents,
  });
  const { log } = routerDependencies;
  const router = createRouterHandler(routerDependencies, createTelemetry('router'));
  const projector = createProjectorHandler(
    portsFromEnvironment(handlerEnvironment(stack)),
    createTelemetry('projector'),
  );
  const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  const readBack = readBackClients();
  const jobs = new DynamoDbJobStatusReader(readBack.documents, stack.tables.jobs);
  try {
    const responses = [];
    for (const input of options.inputs) {
      progress(`routing ${input.origin}`);
      responses.push(await router(input.event, aLocalLambdaContext('routing-manager-router-local')));
    }
    const appended = responses.filter((response) => response.outcome === 'recorded').length;
    progress(`projecting ${appended} new record(s) from the log's stream`);
    const drained = await poller.drain(projector, {
      minRecords: appended,
      timeoutMs: options.settleTimeoutMs ?? 30_000,
    });
    if (drained.abandoned.length > 0 || drained.failed > 0) {
      progress(`projector reported ${drained.failed} failed record(s); see its logs above`);
    }

    progress('reading back queues, announcements and Jobs');
    const [fal, replicate, announcements] = await Promise.all([
      peekQueue(readBack.sqs, stack.queues.fal),
      peekQueue(readBack.sqs, stack.queues.replicate),
      peekQueue(readBack.sqs, stack.queues.announcements),
    ]);
    const byProvider: Record<string, typeof fal> = { fal, replicate };
    const captured = announcements.map(announcementOf).filter((a) => a !== null);

    const results: LocalEventResult[] = [];
    for (const [i, response] of responses.entries()) {
      const input = options.inputs[i] as SubmittedInput;
      const [decision] = (await log.readStream(response.stream)) as DecisionRecord[];
      const routed = decision?.type === 'RoutingDecided' ? decision : null;
      const rejected = decision?.type === 'RoutingRejected' ? decision : null;
      const jobId = response.jobId;
      const onQueues = routed ? (byProvider[routed.provider] ?? []) : [...fal, ...replicate];
      const job = jobId ? await jobs.read(jobId) : null;
      results.push({
        origin: input.origin,
        eventId: typeof input.event.id === 'string' ? input.event.id : null,
        jobId,
        outcome: response.outcome === 'recorded' ? response.decision : 'duplicate',
        provider: routed?.provider ?? null,
        model: routed?.model ?? null,
        queue: routed?.queue ?? null,
        reason:
          response.outcome === 'conflicting_duplicate' ? 'conflicting_duplicate' : (rejected?.reason ?? null),
        effects: {
          messages: jobId ? onQueues.filter((message) => message.body.jobId === jobId).length : 0,
          events: captured.filter(
            (a) =>
              (a.detailType === ROUTED_DETAIL_TYPE || a.detailType === REJECTED_DETAIL_TYPE) &&
              a.announcementId.startsWith(`${response.stream}:`),
          ).length,
          jobStatus: typeof job?.status === 'string' ? job.status : null,
        },
      });
    }
    return results;
  } finally {
    poller.destroy();
    readBack.destroy();
    documents.destroy();
  }
}
