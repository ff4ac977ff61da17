/**
 * What the batch verbs share — `replay` and `redrive` (one incident over a window's decisions) and
 * `forget` (one user's jobs) — so that neither imports another: the request every one of them
 * records (who, why, dry run, the jobs to pay again for), the ports their commands read through,
 * and the summary's shape (facts, then a row per job when there are any).
 */
import type { Command } from 'commander';
import { parseIncidentKey } from '../commands/replay-plan.ts';
import type { AuditWindow } from '../ports/audit-index.ts';
import { auditWindow } from '../queries/audit-window.ts';
import { contentStatusReader } from '../queries/content-status.ts';
import { type CliContext, UsageError } from './cli-context.ts';
import { collect } from './options.ts';
import { renderFacts, renderTable } from './output.ts';

export interface IncidentOptions {
  incident: string;
  since: string;
  until: string;
  dryRun?: boolean;
  why?: string;
  by?: string;
  payAgainFor?: string[];
}

/**
 * `--pay-again-for`, `--dry-run`, `--why`, `--by`: what an incident run records and may cost.
 * `what` names the verb's record in the help (`replay`, `re-drive`).
 */
export const incidentOptions = (
  command: Command,
  texts: { readonly what: string; readonly payAgain: string; readonly dryRun: string },
): Command =>
  command
    .option('--pay-again-for <jobId>', texts.payAgain, collect)
    .option('--dry-run', texts.dryRun)
    .option('--why <text>', `free text recorded in every ${texts.what} record (required unless --dry-run)`)
    .option('--by <who>', 'who asks (recorded; default: the OS user)');

/** The request an incident run records, checked before any AWS call. */
export function incidentRequest(
  context: CliContext,
  options: IncidentOptions,
  what: string,
): {
  readonly incident: string;
  readonly window: AuditWindow;
  readonly why: string;
  readonly requestedBy: string;
  readonly dryRun: boolean;
  readonly payAgainFor: readonly string[];
} {
  const dryRun = options.dryRun === true;
  const incident = parseIncidentKey(options.incident);
  if (!dryRun && !options.why?.trim())
    throw new UsageError(`--why is required (it is recorded with the ${what})`);
  return {
    incident,
    window: auditWindow(options.since, options.until, context.now()),
    why: options.why?.trim() ?? '',
    requestedBy: context.operator(options.by),
    dryRun,
    payAgainFor: options.payAgainFor ?? [],
  };
}

/** The ports an incident run's command reads a window's jobs through (the run's composition root). */
export function windowJobPorts(context: CliContext) {
  const ports = context.ports();
  return {
    log: ports.log,
    decisions: ports.decisions,
    now: () => context.now(),
    // Where a job's content stands: an erased or expired one is recorded as sending nothing.
    contentOf: contentStatusReader({ store: ports.content, keys: ports.contentKeys }, () => context.now()),
  };
}

/** A batch run's summary: its facts, then one row per job listed (none: the facts alone). */
export function renderBatchSummary(
  facts: readonly (readonly [string, string])[],
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  if (rows.length === 0) return renderFacts(facts);
  return `${renderFacts(facts)}\n\n${renderTable(headers, rows)}`;
}
