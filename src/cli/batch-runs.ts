/**
 * What the incident verbs — `replay` and `redrive` (one incident over a window's decisions) — share
 * so that neither imports the other: the options and request every incident records (who, why, dry
 * run, the jobs to pay again for) and the ports their commands read through. How their summaries
 * print is batch-summary.ts.
 */
import type { Command } from 'commander';
import type { IncidentRequest } from '../commands/incident-batch.ts';
import { parseIncidentKey } from '../commands/replay-plan.ts';
import { auditWindow } from '../queries/audit-window.ts';
import { contentStatusReader } from '../queries/content-status.ts';
import { type CliContext, UsageError } from './cli-context.ts';
import { collect } from './options.ts';

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
): IncidentRequest & { readonly payAgainFor: readonly string[] } {
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
