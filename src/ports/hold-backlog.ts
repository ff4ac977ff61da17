/**
 * The hold backlog: our own queue of held jobs to decide again (HoldQueue-<Stage> in template.yaml,
 * with its dead-letter queue). Its messages carry ids only, never user content:
 *
 *   { "kind": "recheck", "jobId": "…" }         decide this held job again (the bounded wait)
 *   { "kind": "slot_freed", "provider": "fal" } a slot of `provider` was released: decide its
 *                                               waiting line again, oldest first
 *
 * Delivery is at least once; every message is safe to handle twice (a job no longer held is left
 * alone), so the effect is once. Adapter: src/aws/sqs-hold-backlog.ts; in memory:
 * src/memory/in-memory-hold-backlog.ts.
 */

export type HoldMessage =
  | { readonly kind: 'recheck'; readonly jobId: string }
  | { readonly kind: 'slot_freed'; readonly provider: string };

/** SQS DelaySeconds is at most 15 minutes: a longer wait is a chain of re-checks. */
export const MAX_BACKLOG_DELAY_SEC = 900;

export interface HoldBacklog {
  /** Sends one message, visible after `delaySec` (0–MAX_BACKLOG_DELAY_SEC, whole seconds). */
  send(message: HoldMessage, delaySec: number): Promise<void>;
}

/** Ids are bounded like a jobId (src/intake/submission.ts) or a provider name: never arbitrary text. */
const ID = /^[A-Za-z0-9._:@/-]{1,128}$/;

/** A backlog message's body read back; null when it is not one (reported by the handler, never dropped silently). */
export function holdMessageOf(body: string): HoldMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { kind, jobId, provider } = parsed as Record<string, unknown>;
  if (kind === 'recheck' && typeof jobId === 'string' && ID.test(jobId)) return { kind, jobId };
  if (kind === 'slot_freed' && typeof provider === 'string' && ID.test(provider)) return { kind, provider };
  return null;
}

/** A delay SQS accepts: whole seconds within 0–MAX_BACKLOG_DELAY_SEC (NaN and negatives are 0). */
export const backlogDelaySec = (seconds: number): number =>
  Number.isFinite(seconds) ? Math.min(MAX_BACKLOG_DELAY_SEC, Math.max(0, Math.ceil(seconds))) : 0;
