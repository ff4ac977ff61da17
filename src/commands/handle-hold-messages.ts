/**
 * HandleHoldMessages: the Holds function's use case — a batch of hold-backlog messages
 * (src/ports/hold-backlog.ts), each handled on its own: a `slot_freed` decides its provider's waiting
 * line again, a `recheck` its job's lines and then the job (src/commands/hold-job.ts). One message
 * that cannot be read, or whose handling failed, fails alone (its neighbours are handled) and is
 * returned as such, so the caller reports it for redelivery — never dropped. Every message is safe to
 * handle twice.
 */
import { contentFreeMessage } from '../observability/content-free-message.ts';
import { type HoldMessage, holdMessageOf } from '../ports/hold-backlog.ts';
import {
  type DrainResult,
  drainWaitingLine,
  type HeldJobDependencies,
  type HeldJobResult,
  type HoldEnding,
  recheckHeldJob,
} from './hold-job.ts';

/** What one backlog message led to: the holds it ended (routed or rejected). */
export interface HoldMessageOutcome {
  readonly message: HoldMessage;
  readonly decided: readonly HoldEnding[];
  /** A `recheck`: the job's own result. */
  readonly result?: HeldJobResult;
}

/** One message of a batch, as the queue delivered it (its id, and a body we do not trust). */
export interface HoldBatchItem {
  readonly id: string;
  readonly body: string;
}

export type HoldItemResult =
  | { readonly id: string; readonly kind: 'handled'; readonly outcome: HoldMessageOutcome }
  | { readonly id: string; readonly kind: 'unreadable' }
  | {
      readonly id: string;
      readonly kind: 'failed';
      readonly message: HoldMessage;
      /** The failure's class and a message that quotes no content. */
      readonly failure: { readonly code: string; readonly message: string };
    };

/** Handles one backlog message: decides what it wakes, oldest first. */
export async function handleHoldMessage(
  message: HoldMessage,
  deps: HeldJobDependencies,
): Promise<HoldMessageOutcome> {
  if (message.kind === 'slot_freed') {
    const drained = await drainWaitingLine(message.provider, deps);
    return { message, decided: drained.decided };
  }
  const { drained, result } = await recheckHeldJob(message.jobId, deps);
  const decided = decidedIn(drained);
  if (result.outcome === 'decided' && !decided.includes(result.record)) decided.push(result.record);
  return { message, decided, result };
}

const decidedIn = (drained: readonly DrainResult[]): HoldEnding[] => drained.flatMap((d) => d.decided);

/** Every message of the batch, in order, each its own result. */
export async function handleHoldMessages(
  items: readonly HoldBatchItem[],
  deps: HeldJobDependencies,
): Promise<readonly HoldItemResult[]> {
  const results: HoldItemResult[] = [];
  for (const { id, body } of items) {
    const message = holdMessageOf(body);
    if (!message) {
      results.push({ id, kind: 'unreadable' });
      continue;
    }
    try {
      results.push({ id, kind: 'handled', outcome: await handleHoldMessage(message, deps) });
    } catch (error) {
      const failure = {
        code: error instanceof Error ? error.name : 'Error',
        message: contentFreeMessage(error),
      };
      results.push({ id, kind: 'failed', message, failure });
    }
  }
  return results;
}
