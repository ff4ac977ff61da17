/**
 * `routing-manager submit FILE…`: puts submissions on the event bus with PutEvents — the way to feed
 * a live local stack (`npm run local -- --keep`), or a deployed one. Each file holds an EventBridge
 * event, just its `detail` (sent as `frontend.api` / `video.job.submitted`), or an array of either.
 * Entries go in calls within PutEvents' limits (10 entries, 256 KB); an entry refused, or too large
 * to send, is reported alone and the others still go.
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import { type PutEntryResult, putEventsOnBus } from '../../aws/eventbridge-put-events.ts';
import { PUT_EVENTS_MAX_BYTES } from '../../batching/aws-batch-limits.ts';
import { EXIT_RUNTIME } from '../../exit-codes.ts';
import { putEventsBatches } from '../../intake/put-events-batches.ts';
import { SUBMISSION_DETAIL_TYPE, SUBMISSION_SOURCE } from '../../intake/submission.ts';
import { contentFreeMessage } from '../../observability/content-free-message.ts';
import {
  ATTEMPT_DETAIL_TYPE,
  JOB_STARTED_DETAIL_TYPE,
  SIGNAL_SOURCE,
  STATUS_DETAIL_TYPE,
} from '../../provider-health/signals.ts';
import { type CliContext, UsageError } from '../cli-context.ts';
import { failsEveryCall } from '../failures.ts';
import { jsonLine, orDash, renderTable } from '../output.ts';
import { jobProgressBar } from '../progress-bar.ts';
import { EventFileError, loadSubmittedEvents, originName, type SubmittedInput } from '../submitted-events.ts';

export interface SubmitEntry {
  readonly origin: string;
  readonly jobId: string | null;
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
}

export interface SubmitResult {
  readonly origin: string;
  readonly jobId: string | null;
  /** The id EventBridge gave the event (what `history event#<id>` finds for a rejection without jobId). */
  readonly eventId: string | null;
  readonly error: string | null;
}

/** The PutEvents entry of a loaded submission: its own source and detail-type, its detail as JSON. */
export function submitEntryOf(input: SubmittedInput): SubmitEntry {
  const { event } = input;
  const detail = event.detail ?? {};
  const jobId = (detail as { jobId?: unknown }).jobId;
  return {
    origin: input.origin,
    jobId: typeof jobId === 'string' ? jobId : null,
    source: typeof event.source === 'string' ? event.source : SUBMISSION_SOURCE,
    detailType: typeof event['detail-type'] === 'string' ? event['detail-type'] : SUBMISSION_DETAIL_TYPE,
    detail: JSON.stringify(detail),
  };
}

export interface SubmitOptionsOfRun {
  /** A whole-call failure every later call would meet too (no connection, refused credentials): stop. */
  readonly stopOn?: (error: unknown) => boolean;
  /** After each call: entries settled so far, of all. */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
}

/** Submission stopped at a failure every later call would meet: how far it got, and the failure. */
export class SubmitStoppedError extends Error {
  readonly put: number;
  readonly total: number;
  constructor(put: number, total: number, cause: unknown) {
    super(`stopped after putting ${put} of ${total} event(s)`, { cause });
    this.name = 'SubmitStoppedError';
    this.put = put;
    this.total = total;
  }
}

/**
 * Puts every entry, batch by batch; one result per entry, in input order. A batch refused as a whole
 * fails its entries and the next is tried — unless `stopOn` says every call would fail the same way:
 * then nothing more is sent and SubmitStoppedError says how many were put before.
 */
export async function submitEntries(
  entries: readonly SubmitEntry[],
  put: (batch: readonly SubmitEntry[]) => Promise<PutEntryResult[]>,
  { stopOn = () => false, onProgress }: SubmitOptionsOfRun = {},
): Promise<SubmitResult[]> {
  const results = new Map<SubmitEntry, SubmitResult>();
  const settle = (entry: SubmitEntry, eventId: string | null, error: string | null) =>
    results.set(entry, { origin: entry.origin, jobId: entry.jobId, eventId, error });
  onProgress?.({ done: 0, total: entries.length });
  const { batches, tooLarge } = putEventsBatches(entries);
  for (const { entry, bytes } of tooLarge) {
    settle(entry, null, `too large: ${bytes} bytes, PutEvents takes at most ${PUT_EVENTS_MAX_BYTES}`);
  }
  for (const batch of batches) {
    try {
      const answers = await put(batch);
      batch.forEach((entry, index) => {
        const answer = answers[index];
        if (answer?.ok) settle(entry, answer.eventId, null);
        else settle(entry, null, answer ? `${answer.code}: ${answer.message}` : 'no answer');
      });
    } catch (error) {
      if (stopOn(error)) {
        const putSoFar = [...results.values()].filter((result) => result.error === null).length;
        throw new SubmitStoppedError(putSoFar, entries.length, error);
      }
      // The call failed as a whole (e.g. throttled past the SDK's retries): its entries fail, the next batch is tried.
      const reason =
        error instanceof Error ? `${error.name}: ${contentFreeMessage(error)}` : contentFreeMessage(error);
      for (const entry of batch) settle(entry, null, reason);
    }
    onProgress?.({ done: results.size, total: entries.length });
  }
  if (batches.length === 0) onProgress?.({ done: entries.length, total: entries.length });
  return entries.map((entry) => results.get(entry) as SubmitResult);
}

/**
 * What the stack's EventBridge rules match (template.yaml's JobSubmittedRule and HealthSignalsRule;
 * tests/unit/submit.unit.spec.ts checks they agree): source → detail-types.
 */
export const STACK_EVENT_PATTERNS: Readonly<Record<string, readonly string[] | 'any'>> = {
  [SUBMISSION_SOURCE]: [SUBMISSION_DETAIL_TYPE],
  [SIGNAL_SOURCE]: [ATTEMPT_DETAIL_TYPE, STATUS_DETAIL_TYPE, JOB_STARTED_DETAIL_TYPE],
  // The announcements' log capture (RoutingEventsRule) takes every detail-type of the stack's own source.
  'routing.manager': 'any',
};

/** Entries no rule of the stack matches: put on the bus, they would reach nothing (a typo, usually). */
export function unmatchedEntries(entries: readonly SubmitEntry[]): SubmitEntry[] {
  return entries.filter((entry) => {
    const types = STACK_EVENT_PATTERNS[entry.source];
    return types !== 'any' && !types?.includes(entry.detailType);
  });
}

function unmatchedWarning(unmatched: readonly SubmitEntry[]): string {
  const kinds = [...new Set(unmatched.map((entry) => `${entry.source} / ${entry.detailType}`))];
  const expected = Object.entries(STACK_EVENT_PATTERNS)
    .flatMap(([source, types]) =>
      types === 'any' ? [`${source} / *`] : types.map((type) => `${source} / ${type}`),
    )
    .join(', ');
  return (
    `routing-manager: warning: ${unmatched.length} event(s) with source / detail-type ${kinds.map((k) => `"${k}"`).join(', ')} ` +
    `match no rule of the stack and will reach nothing (the stack routes: ${expected})`
  );
}

interface SubmitOptions {
  eventBus?: string;
  json?: boolean;
}

export function registerSubmit(program: Command, contextOf: (command: Command) => CliContext) {
  program
    .command('submit')
    .description('put submissions on the event bus (PutEvents): the way to feed a live local stack')
    .argument('<files...>', 'JSON files: an EventBridge event, a bare detail, or an array of either')
    .option('--event-bus <name>', 'the bus (default: $EVENT_BUS_NAME, else default)')
    .option('--json', 'one JSON object per submission')
    .action(async (files: string[], options: SubmitOptions, command: Command) => {
      const context = contextOf(command);
      const bus = options.eventBus ?? context.io.env.EVENT_BUS_NAME ?? 'default';
      let inputs: SubmittedInput[];
      try {
        inputs = await loadSubmittedEvents(files, { newId: randomUUID, now: () => context.now() });
      } catch (error) {
        if (error instanceof EventFileError) throw new UsageError(error.message);
        throw error;
      }
      if (inputs.length === 0) throw new UsageError('no submissions in the files given');
      const entries = inputs.map(submitEntryOf);
      const unmatched = unmatchedEntries(entries);
      if (unmatched.length > 0) context.err(unmatchedWarning(unmatched));
      // The one client path of every verb: --profile, --region and --endpoint-url apply here too.
      const client = context.client((config) => new EventBridgeClient(config));
      let results: SubmitResult[];
      try {
        results = await submitEntries(entries, (batch) => putEventsOnBus(client, bus, batch), {
          stopOn: failsEveryCall,
          ...jobProgressBar(context, 'submit [{bar}] {value}/{total} events', () => ({})),
        });
      } catch (error) {
        if (!(error instanceof SubmitStoppedError)) throw error;
        context.err(`routing-manager: ${error.message} on bus ${bus}`);
        // The failure itself, with the hint every verb gives for it (src/cli/failures.ts).
        throw error.cause;
      }
      const failed = results.filter((result) => result.error !== null).length;
      if (options.json) {
        for (const result of results) context.out(jsonLine(result));
      } else {
        context.out(
          renderTable(
            ['event', 'jobId', 'eventId', 'result'],
            results.map((r) => [originName(r.origin), orDash(r.jobId), orDash(r.eventId), r.error ?? 'put']),
          ),
        );
      }
      context.err(`put ${results.length - failed} of ${results.length} event(s) on bus ${bus}`);
      if (failed > 0) context.exitCode = EXIT_RUNTIME;
    });
}
