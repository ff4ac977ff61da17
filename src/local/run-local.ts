/**
 * `npm run local`: the whole pipeline on this machine, with the real handlers.
 *
 *   emulators (DynamoDB Local + moto) → provision the stack → the REAL router handler per event →
 *   the log's stream polled like the Lambda event source mapping → the REAL projector handler →
 *   settled → read back what landed (provider queues, captured announcements, Jobs table).
 *
 * With `live`, the stack then stays live: a rule on its bus feeds the router through an intake
 * queue (src/local/live-intake.ts) and the stream keeps feeding the projector until `stop()`.
 *
 * Testable: `runLocal` returns the per-event results and a handle to stop what it started; the
 * command line (src/local/main.ts) only parses arguments and prints.
 */
import { createHash } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbJobStatusReader } from '../aws/dynamodb-job-status-reader.ts';
import type { SubmittedInput } from '../cli/submitted-events.ts';
import { loadHealthSignalsConfig } from '../config/health-signals-config.ts';
import { loadHoldsConfig } from '../config/holds-config.ts';
import { loadProjectorConfig } from '../config/projector-config.ts';
import { loadRouterConfig } from '../config/router-config.ts';
import { loadWindowCloserConfig } from '../config/window-closer-config.ts';
import { RoutingManagerError } from '../errors.ts';
import {
  createHealthSignalsHandler,
  type HealthSignalsResponse,
  healthSignalsDependencies,
  type SignalItemResult,
} from '../handlers/health-signals.ts';
import { createHoldsHandler, holdsDependencies } from '../handlers/holds.ts';
import { createProjectorHandler, projectorPorts } from '../handlers/projector.ts';
import { createRouterHandler, type RouterResponse, routerDependencies } from '../handlers/router.ts';
import { createWindowCloserHandler, windowCloserDependencies } from '../handlers/window-closer.ts';
import type { FieldError, SubmittedEvent } from '../intake/submission.ts';
import { jobStateOf } from '../log/job-state.ts';
import type { RoutingLogRecord } from '../log/routing-records.ts';
import { createTelemetry } from '../observability/telemetry.ts';
import type { JobStatusReader } from '../ports/job-status-reader.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import { announcementIdOf, REJECTED_DETAIL_TYPE, ROUTED_DETAIL_TYPE } from '../projections/effects.ts';
import type { SignalEvent } from '../provider-health/signals.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import {
  type EmulatorEndpoints,
  emulatorEnvironment,
  type RunningEmulators,
  startEmulators,
} from './emulators.ts';
import { aLocalLambdaContext } from './lambda-context.ts';
import {
  IntakeQueueDrainer,
  type IntakeRoute,
  type LiveIntake,
  provisionLiveIntake,
  SUBMISSIONS_RULE,
} from './live-intake.ts';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from './provision.ts';
import { publishLocalRules } from './published-rules.ts';
import {
  announcementOf,
  type CapturedAnnouncement,
  peekQueue,
  type QueuedMessage,
  readBackClients,
} from './read-back.ts';
import { RecordingProviderQueues } from './sent-messages.ts';
import { revisionText, type SignalChange, signalAppended, signalChangeOf, stepsOf } from './signal-inputs.ts';
import { SqsEventSource } from './sqs-event-source.ts';
import { type AbandonedBatch, DynamoDbStreamPoller, type StreamBatchHandler } from './stream-poller.ts';

/**
 * `signal`: a provider attempt or status event (what it changed is in `change`). `held`: every
 * candidate was full; the row's provider (or reason) is the decision that ended the hold during the
 * run, null while it is still held.
 */
export type LocalOutcome = 'routed' | 'rejected' | 'duplicate' | 'signal' | 'held';

export interface LocalEventResult {
  readonly origin: string;
  /** The event's id (the router's own when the event carried none). */
  readonly eventId: string | null;
  readonly jobId: string | null;
  readonly outcome: LocalOutcome;
  readonly provider: string | null;
  readonly model: string | null;
  readonly queue: string | null;
  /** The rejection reason; `conflicting_duplicate` for a jobId re-submitted with another payload. */
  readonly reason: string | null;
  /** For `invalid_request`: which fields were unusable and why; otherwise null. */
  readonly fieldErrors?: readonly FieldError[] | null;
  /** For a provider signal: the breaker transitions and the job revision it caused (else absent). */
  readonly change?: SignalChange;
  readonly effects: {
    /** Messages for this job on its provider queue (for a rejection: on any provider queue). */
    readonly messages: number;
    /** `video.job.routed` / `video.job.rejected` announcements captured for this job. */
    readonly events: number;
    /** The job's status in Jobs-<Stage>, or null when it has no item. */
    readonly jobStatus: string | null;
    /** The provider-queue message body as read back from the queue (parsed), or null. */
    readonly message?: Record<string, unknown> | null;
    /** The announced event's `detail` as read back from the bus, or null. */
    readonly event?: Record<string, unknown> | null;
  };
}

export interface LiveOptions {
  /** One line per event the intake handled and per batch the projector took. */
  readonly report: (line: string) => void;
  /** Long-poll wait of the intake queue (default 20 s). */
  readonly waitSeconds?: number;
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
  /** Published as the stack's active rules (`--rules FILE`), with a queue for each provider it adds. */
  readonly rules?: { readonly table: RoutingTable; readonly origin: string };
  /** Keep the stack live after the inputs: events on the bus are routed and projected until stop(). */
  readonly live?: LiveOptions;
}

export interface LocalRun {
  readonly results: LocalEventResult[];
  readonly stack: LocalStack;
  readonly endpoints: EmulatorEndpoints;
  /** Everything a shell needs to point the AWS CLI or `routing-manager` at this stack. */
  readonly environment: Readonly<Record<string, string>>;
  /** Stops the live loops, then the emulators if this run started them. */
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
  let pipeline: LocalPipeline | null = null;
  let live: LiveSession | null = null;
  const stop = async () => {
    await live?.stop();
    live = null;
    pipeline?.destroy();
    pipeline = null;
    await running?.stop();
    running = null;
  };
  try {
    // The SDK reads only its standard variables (region, endpoints): the adapters need no
    // local-specific code. The handlers' own configuration is passed to them, not set here.
    Object.assign(process.env, emulatorEnvironment(endpoints));
    progress(`provisioning stage ${options.stage}`);
    const stack = await provisionLocalStack({ stage: options.stage });
    const environment: Record<string, string> = {
      ...emulatorEnvironment(endpoints),
      ...handlerEnvironment(stack),
    };
    if (options.credits) await seedCredits(stack.tables.credits, options.credits);
    const providerQueues = options.rules
      ? await publishLocalRules(stack, options.rules.table, options.rules.origin)
      : {};
    if (Object.keys(providerQueues).length > 0)
      environment.PROVIDER_QUEUE_URLS = JSON.stringify(providerQueues);

    pipeline = await createPipeline(stack, options.table, environment);
    const results = await routeAndProject(pipeline, stack, options, progress, providerQueues);
    if (options.live) {
      live = await startLive(pipeline, stack, options.live);
      environment.INTAKE_QUEUE_URL = live.intake.queueUrl;
      environment.HEALTH_SIGNALS_QUEUE_URL = stack.queues.healthSignals;
    } else {
      pipeline.destroy();
      pipeline = null;
    }
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

/** The real handlers wired to the stack, and the stream poller that feeds the projector. */
interface LocalPipeline {
  readonly route: (event: SubmittedEvent) => Promise<RouterResponse>;
  /**
   * One provider signal (attempt report, job start, status change) the way HealthSignalsRule delivers
   * it: sent to HealthSignalsQueue and drained through the REAL HealthSignals handler in batches.
   */
  readonly signal: (event: SignalEvent) => Promise<HealthSignalsResponse>;
  /** The HealthSignals function fed from HealthSignalsQueue (live: `run`). */
  readonly signals: SqsEventSource;
  /** Where each signal message's fate is told once the stack is live (null: only kept for `signal`). */
  reportSignalsTo(report: ((item: SignalItemResult) => void) | null): void;
  readonly project: StreamBatchHandler;
  readonly poller: DynamoDbStreamPoller;
  /** What the projector put on the provider queues (the read-back never receives them). */
  readonly sent: RecordingProviderQueues;
  readonly log: RoutingLog;
  /** The error class the projector last gave for a record (by sequence number), if it failed. */
  failureClassOf(sequenceNumber: string): string | undefined;
  /** The Holds function fed from HoldQueue (what is visible now: `drain`; live: `run`). */
  readonly holds: SqsEventSource;
  /** Held jobs decided so far by the Holds handler (each appended one log record). */
  heldDecided(): number;
  /** The WindowCloser function's run (one round: what is due now), as its schedule would invoke it. */
  closeWindows(): Promise<unknown>;
  destroy(): void;
}

/** Failure classes remembered per sequence number: enough for any batch in flight, never unbounded. */
const REMEMBERED_FAILURES = 10_000;

async function createPipeline(
  stack: LocalStack,
  table: RoutingTable | undefined,
  environment: Readonly<Record<string, string>>,
): Promise<LocalPipeline> {
  const documents = createDocumentClient();
  const deps = routerDependencies(loadRouterConfig(environment), {
    ...(table ? { table } : {}),
    client: documents,
  });
  const router = createRouterHandler(deps, createTelemetry('router', stack.stage));
  const failures = new Map<string, string>();
  const ports = projectorPorts(loadProjectorConfig(environment));
  // Provider queues are read back from what SQS accepted, never received (sent-messages.ts).
  const sent = new RecordingProviderQueues(ports.sender);
  const projector = createProjectorHandler(
    { ...ports, sender: sent },
    createTelemetry('projector', stack.stage),
    {
      onRecordFailed: (sequenceNumber, errorClass) => {
        failures.delete(sequenceNumber);
        failures.set(sequenceNumber, errorClass);
        if (failures.size > REMEMBERED_FAILURES) failures.delete(failures.keys().next().value as string);
      },
    },
  );
  // The HealthSignals function and its event source: a signal's fate by message id, until `signal`
  // takes it (a message handled in a batch `signal` did not send is only reported).
  const sqs = new SQSClient({});
  const fates = new Map<string, SignalItemResult>();
  let liveReport: ((item: SignalItemResult) => void) | null = null;
  const signalsHandler = createHealthSignalsHandler(
    healthSignalsDependencies(loadHealthSignalsConfig(environment)),
    createTelemetry('health-signals', stack.stage),
    {
      onItem: (item) => {
        if (liveReport) liveReport(item);
        else fates.set(item.id, item);
      },
    },
  );
  const signals = new SqsEventSource(
    stack.queues.healthSignals,
    (event) => signalsHandler(event, aLocalLambdaContext('routing-manager-health-signals-local')),
    { name: 'health-signals', batchSize: stack.batchSizes.healthSignals },
  );
  const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  let heldDecided = 0;
  const holdsHandler = createHoldsHandler(
    holdsDependencies(loadHoldsConfig(environment)),
    createTelemetry('holds', stack.stage),
    { onHandled: (outcome) => (heldDecided += outcome.decided.length) },
  );
  const closer = createWindowCloserHandler(
    { ...windowCloserDependencies(loadWindowCloserConfig(environment)), budgetMs: 0 },
    createTelemetry('window-closer', stack.stage),
  );
  const holds = new SqsEventSource(
    stack.queues.hold,
    (event) => holdsHandler(event, aLocalLambdaContext('routing-manager-holds-local')),
    { name: 'holds', batchSize: stack.batchSizes.holds },
  );
  return {
    holds,
    heldDecided: () => heldDecided,
    closeWindows: () =>
      closer(
        {
          id: 'local-window-closer',
          'detail-type': 'Scheduled Event',
          time: new Date().toISOString(),
        } as never,
        aLocalLambdaContext('routing-manager-window-closer-local'),
      ),
    route: (event) => router(event, aLocalLambdaContext('routing-manager-router-local')),
    signals,
    reportSignalsTo: (report) => {
      liveReport = report;
    },
    signal: async (event) => {
      const { MessageId } = await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.queues.healthSignals, MessageBody: JSON.stringify(event) }),
      );
      await signals.drain();
      const fate = fates.get(MessageId as string);
      fates.clear();
      return signalResponseOf(fate);
    },
    project: (event, context: Context) => projector(event, context),
    poller,
    sent,
    log: deps.log,
    failureClassOf: (sequenceNumber) => failures.get(sequenceNumber),
    destroy: () => {
      poller.destroy();
      holds.destroy();
      signals.destroy();
      sqs.destroy();
      documents.destroy();
    },
  };
}

/** A signal the HealthSignals function could not handle (its message waits to be delivered again). */
export class LocalSignalFailedError extends RoutingManagerError {
  constructor(what: string) {
    super('signal_failed', `the HealthSignals function did not handle the signal: ${what}`);
    this.name = 'LocalSignalFailedError';
  }
}

/** What the function made of one signal message: its response, or a refusal as the row shows it. */
export function signalResponseOf(fate: SignalItemResult | undefined): HealthSignalsResponse {
  if (fate === undefined)
    throw new LocalSignalFailedError('its message was not received from HealthSignalsQueue');
  if (fate.kind === 'failed')
    throw new LocalSignalFailedError(`${fate.failure.code}: ${fate.failure.message}`);
  if (fate.kind === 'handled') return fate.response;
  const where = fate.paths.length > 0 ? `: ${fate.paths.join(', ')}` : '';
  return { outcome: 'refused', problem: `${fate.problem}${where}` };
}

/** One line per signal message the live stack's HealthSignals function took: ids and facts only. */
export function describeSignalItem(item: SignalItemResult): string {
  const subject = item.eventId ? `event ${item.eventId}` : `message ${item.id}`;
  if (item.kind === 'handled') return describeHealthSignal(item.eventId ?? item.id, item.response);
  if (item.kind === 'rejected') {
    const where = item.paths.length > 0 ? `: ${item.paths.join(', ')}` : '';
    return `${subject}: health signal refused (${item.reason}, ${item.problem}${where}); deleted`;
  }
  return `${subject}: health signal failed (${item.failure.code}); SQS delivers it again`;
}

/**
 * A signal envelope from a file, as EventBridge would deliver it: PutEvents gives every event an id
 * and the time it was put, so a file may leave them out (the id is then made from the input's
 * position and content — the same file gives the same ids — and the time is now); what the file
 * says stands.
 */
function asDeliveredSignal(event: Readonly<Record<string, unknown>>, index: number): SignalEvent {
  const digest = createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 24);
  return {
    id: `local-signal-${index}-${digest}`,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...event,
  };
}

async function routeAndProject(
  pipeline: LocalPipeline,
  stack: LocalStack,
  options: RunLocalOptions,
  progress: (message: string) => void,
  providerQueues: Readonly<Record<string, string>>,
): Promise<LocalEventResult[]> {
  const readBack = readBackClients();
  const jobs = new DynamoDbJobStatusReader(readBack.documents, stack.tables.jobs);
  try {
    // File order: a run of submissions is routed, then projected; a signal is handled, then its
    // records projected; so a failure report finds the decision it revises already dispatched.
    const responses: (RouterResponse | HealthSignalsResponse)[] = [];
    for (const step of stepsOf(options.inputs)) {
      let appended = 0;
      for (const i of step.indexes) {
        const input = options.inputs[i] as SubmittedInput;
        if (step.kind === 'signal') {
          progress(`signalling ${input.origin}`);
          const response = await pipeline.signal(asDeliveredSignal(input.event, i));
          appended += signalAppended(response);
          responses[i] = response;
        } else {
          progress(`routing ${input.origin}`);
          const response = await pipeline.route(input.event);
          if (response.outcome === 'recorded') appended++;
          responses[i] = response;
        }
      }
      // What this step woke in the hold backlog (a freed slot): held jobs decided, each one record.
      const decidedBefore = pipeline.heldDecided();
      await pipeline.holds.drain();
      appended += pipeline.heldDecided() - decidedBefore;
      progress(`projecting ${appended} new record(s) from the log's stream`);
      const drained = await pipeline.poller.drain(pipeline.project, {
        minRecords: appended,
        timeoutMs: options.settleTimeoutMs ?? 30_000,
      });
      if (drained.abandoned.length > 0 || drained.failed > 0) {
        progress(`projector reported ${drained.failed} failed record(s); run with --verbose to see its logs`);
      }
      for (const batch of drained.abandoned) progress(abandonedBatchReport(batch, pipeline, stack.stage));
    }

    progress('reading back queues, announcements and Jobs');
    const announcements = await peekQueue(readBack.sqs, stack.queues.announcements);
    const fal = pipeline.sent.sentTo(stack.queues.fal);
    const replicate = pipeline.sent.sentTo(stack.queues.replicate);
    const byProvider: Record<string, typeof fal> = { fal, replicate };
    for (const [provider, queueUrl] of Object.entries(providerQueues))
      byProvider[provider] = pipeline.sent.sentTo(queueUrl);
    const captured = announcements.map(announcementOf).filter((a) => a !== null);

    const results: LocalEventResult[] = [];
    for (const [i, response] of responses.entries()) {
      const input = options.inputs[i] as SubmittedInput;
      if (!('stream' in response)) {
        results.push(await signalResult(input, response, { byProvider, captured, jobs }));
        continue;
      }
      const stream = await pipeline.log.readStream(response.stream);
      // A held job's decision is the one that ended its hold (none while it is still held).
      const decision = jobStateOf(stream).decision ?? undefined;
      const routed = decision?.type === 'RoutingDecided' ? decision : null;
      const rejected = decision?.type === 'RoutingRejected' ? decision : null;
      const jobId = response.jobId;
      const onQueues = routed ? (byProvider[routed.data.provider] ?? []) : [...fal, ...replicate];
      const messages = jobId ? onQueues.filter((message) => message.body.jobId === jobId) : [];
      const announced = captured.filter(
        (a) =>
          (a.detailType === ROUTED_DETAIL_TYPE || a.detailType === REJECTED_DETAIL_TYPE) &&
          a.announcementId.startsWith(`${response.stream}:`),
      );
      const job = jobId ? await jobs.read(jobId) : null;
      results.push({
        origin: input.origin,
        eventId:
          typeof input.event.id === 'string' && input.event.id
            ? input.event.id
            : (decision?.metadata.eventId ?? deferralOf(stream)?.metadata.eventId ?? null),
        jobId,
        outcome: response.outcome === 'recorded' ? response.decision : 'duplicate',
        provider: routed?.data.provider ?? null,
        model: routed?.data.model ?? null,
        queue: routed?.data.queue ?? null,
        reason:
          response.outcome === 'conflicting_duplicate'
            ? 'conflicting_duplicate'
            : (rejected?.data.reason ?? null),
        fieldErrors: rejected?.data.reason === 'invalid_request' ? rejected.data.fieldErrors : null,
        effects: effectsReadBack(messages, announced, job),
      });
    }
    return results;
  } finally {
    readBack.destroy();
  }
}

const deferralOf = (stream: readonly RoutingLogRecord[]) => jobStateOf(stream).deferral;

/** What landed for one row, as read back from the emulators: "what actually happened". */
function effectsReadBack(
  messages: readonly QueuedMessage[],
  announced: readonly CapturedAnnouncement[],
  job: Record<string, unknown> | null | undefined,
): LocalEventResult['effects'] {
  return {
    messages: messages.length,
    events: announced.length,
    jobStatus: typeof job?.status === 'string' ? job.status : null,
    message: messages[0]?.body ?? null,
    event: announced[0]?.detail ?? null,
  };
}

/** The row of a provider signal: what it changed, and the revision's dispatch as read back. */
async function signalResult(
  input: SubmittedInput,
  response: HealthSignalsResponse,
  read: {
    readonly byProvider: Readonly<Record<string, readonly QueuedMessage[]>>;
    readonly captured: readonly CapturedAnnouncement[];
    readonly jobs: JobStatusReader;
  },
): Promise<LocalEventResult> {
  const change = signalChangeOf(response);
  const revision = change.revision;
  const detail = input.event.detail as Record<string, unknown> | undefined;
  const jobId = revision?.jobId ?? (typeof detail?.jobId === 'string' ? detail.jobId : null);
  const messages = revision?.provider
    ? (read.byProvider[revision.provider] ?? []).filter(
        (message) => message.body.dispatchId === revision.dispatchId,
      )
    : [];
  const announced = revision
    ? read.captured.filter((a) => a.announcementId === announcementIdOf(revision.stream, revision.version))
    : [];
  const job = revision ? await read.jobs.read(revision.jobId) : null;
  return {
    origin: input.origin,
    eventId: typeof input.event.id === 'string' && input.event.id ? input.event.id : null,
    jobId,
    outcome: 'signal',
    provider: revision?.provider ?? null,
    model: revision?.model ?? null,
    queue: revision?.queue ?? null,
    reason: response.outcome === 'refused' ? response.problem : null,
    change,
    effects: effectsReadBack(messages, announced, job),
  };
}

interface LiveSession {
  readonly intake: LiveIntake;
  stop(): Promise<void>;
}

/** Makes the stack live: the intake queue drained into the router, the stream followed into the projector. */
async function startLive(
  pipeline: LocalPipeline,
  stack: LocalStack,
  options: LiveOptions,
): Promise<LiveSession> {
  // Submissions reach the router through the intake queue (the deployed rule targets the function);
  // provider signals through the template's own HealthSignalsRule → HealthSignalsQueue, provisioned
  // with the stack and polled below as the deployed event source polls it.
  const routes: IntakeRoute[] = [
    {
      ...SUBMISSIONS_RULE,
      handle: async (event) => describeRouting(event.id, await pipeline.route(event)),
    },
  ];
  pipeline.reportSignalsTo((item) => options.report(describeSignalItem(item)));
  const intake = await provisionLiveIntake(stack, routes);
  const drainer = new IntakeQueueDrainer({
    queueUrl: intake.queueUrl,
    report: options.report,
    ...(options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds }),
    routes,
  });
  const controller = new AbortController();
  const loops = Promise.all([
    drainer.run(controller.signal),
    // The Holds function's event source: held jobs decided again as slots free (or their wait ends).
    pipeline.holds.run(controller.signal, options.report, options.waitSeconds ?? 20),
    // The HealthSignals function's event source: signals from the bus, in batches.
    pipeline.signals.run(controller.signal, options.report, options.waitSeconds ?? 20),
    // The WindowCloser's schedule: due signal windows closed and judged without waiting for a signal.
    closeWindowsEvery(CLOSER_EVERY_MS, pipeline, controller.signal, options.report),
    pipeline.poller.follow(pipeline.project, {
      signal: controller.signal,
      onDelivery: ({ delivered, failed, abandoned }) =>
        options.report(
          abandoned
            ? abandonedBatchReport(abandoned, pipeline, stack.stage)
            : `projected ${delivered} log record(s)${failed > 0 ? `, ${failed} failed (retried; --verbose shows why)` : ''}`,
        ),
      onError: (error) =>
        options.report(
          `stream poll failed (${error instanceof Error ? error.name : 'unknown error'}); retrying`,
        ),
    }),
  ]);
  return {
    intake,
    stop: async () => {
      controller.abort();
      await loops;
      drainer.destroy();
    },
  };
}

/** How often the live stack closes due signal windows (the deployed closer waits for each due time). */
const CLOSER_EVERY_MS = 2_000;

/** Runs the window closer every `everyMs` until `signal` aborts; a failed run is reported, not fatal. */
async function closeWindowsEvery(
  everyMs: number,
  pipeline: Pick<LocalPipeline, 'closeWindows'>,
  signal: AbortSignal,
  report: (line: string) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await pipeline.closeWindows();
    } catch (error) {
      report(`window closing failed (${error instanceof Error ? error.name : 'unknown error'}); retrying`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/**
 * What an abandoned stream batch needs said at default verbosity, as the on-failure destination
 * would hold it: what was given up (records, shard, sequence range, when), the error class, and the
 * `redrive` that finishes their effects with their original ids (a minute wider on each side, as
 * docs/OPERATIONS.md#projector-on-failure-queue-re-drive-from-the-log advises).
 */
export function abandonedBatchReport(
  batch: AbandonedBatch,
  pipeline: Pick<LocalPipeline, 'failureClassOf'>,
  stage: string,
): string {
  const errorClass = pipeline.failureClassOf(batch.startSequenceNumber) ?? 'unknown';
  const minute = 60_000;
  const around = (iso: string | null, delta: number) =>
    iso === null ? null : new Date(Date.parse(iso) + delta).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const since = around(batch.approximateArrivalOfFirstRecord, -minute) ?? '1h';
  const until = around(batch.approximateArrivalOfLastRecord, minute);
  const incident = `STREAM-${batch.startSequenceNumber.slice(-12)}`;
  return (
    `GAVE UP on a stream batch after ${batch.attempts} attempts: ${batch.batchSize} log record(s), ` +
    `shard ${batch.shardId}, sequence ${batch.startSequenceNumber}…${batch.endSequenceNumber}; ` +
    `error class ${errorClass}. Their effects are incomplete until re-driven: ` +
    `routing-manager redrive --stage ${stage} --incident ${incident} --since ${since}` +
    `${until ? ` --until ${until}` : ''} --why "abandoned stream batch"`
  );
}

/** One line per health signal: the breaker transitions and the re-routing it caused. */
export function describeHealthSignal(eventId: string, response: HealthSignalsResponse): string {
  if (response.outcome === 'refused') return `event ${eventId}: health signal refused (${response.problem})`;
  if (response.outcome === 'observed')
    return `event ${eventId}: ${response.provider} started a job after ${response.queueWaitMs} ms in its queue`;
  const slot = response.slotReleased ? `; ${response.slotReleased} slot released` : '';
  const transitions =
    response.outcome === 'recorded' && response.transitions.length > 0
      ? response.transitions
          .map((t) => `${t.key} ${t.previousStatus} → ${t.status} (v${t.version})`)
          .join(', ')
      : response.outcome;
  const change = response.revision ? signalChangeOf(response).revision : null;
  const revised =
    response.revision === undefined
      ? ''
      : response.revision.outcome === 'ignored' || !change
        ? `; not re-routed (${response.revision.outcome === 'ignored' ? response.revision.why : 'unknown'})`
        : `; job ${change.jobId} v${change.version} ${
            change.heldFor
              ? revisionText(change)
              : change.provider
                ? `re-routed to ${change.provider}`
                : `rejected: ${change.reason}`
          }${change.already ? ' (already)' : ''}`;
  const verdict = response.verdict;
  const done =
    verdict === undefined
      ? ''
      : verdict.outcome === 'recorded'
        ? `; job ${verdict.jobId} v${verdict.record.metadata.version} done: ${verdict.record.data.outcome}`
        : `; job ${verdict.jobId} outcome not recorded (${verdict.why})`;
  return `event ${eventId}: health ${transitions}${slot}${revised}${done}`;
}

/** One line about a routed event: ids and the decision, never the job's content. */
export function describeRouting(eventId: string, response: RouterResponse): string {
  const subject = response.jobId ? `job ${response.jobId}` : `stream ${response.stream}`;
  const decision =
    response.decision === 'routed'
      ? `routed to ${response.provider}`
      : response.decision === 'held'
        ? 'held: every candidate full (decided again when a slot frees)'
        : `rejected: ${response.reason}`;
  const outcome =
    response.outcome === 'recorded'
      ? decision
      : response.outcome === 'duplicate'
        ? `duplicate (already ${decision})`
        : 'conflicting duplicate refused';
  return `event ${eventId}: ${subject} ${outcome}`;
}
