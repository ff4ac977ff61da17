/**
 * How the incident verbs (`replay`, `redrive`) print their summaries, one layout for both: the
 * incident's facts, what it did, what is left to run again, then a row per job or target when there
 * are any.
 */
import type { IncidentSummary } from '../commands/incident-batch.ts';
import { renderFacts, renderTable } from './output.ts';

/** A batch run's summary: its facts, then one row per job listed (none: the facts alone). */
export function renderBatchSummary(
  facts: readonly (readonly [string, string])[],
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  if (rows.length === 0) return renderFacts(facts);
  return `${renderFacts(facts)}\n\n${renderTable(headers, rows)}`;
}

/**
 * The facts every incident run's summary opens with: the incident, the run's id (its identity per
 * incident; a dry run says it appended nothing), and the decisions it searched.
 */
export function incidentFacts(
  summary: IncidentSummary,
  run: { readonly label: string; readonly id: string },
  decisions: string,
): [string, string][] {
  return [
    ['incident', summary.incident],
    [run.label, `${run.id}${summary.dryRun ? ' (dry run: nothing appended)' : ''}`],
    ['decisions', `${decisions} in [${summary.since}, ${summary.until})`],
  ];
}

/** The fact of an incident run's unfinished jobs, if any: running the same command again finishes them. */
export const unfinishedFacts = (summary: IncidentSummary, label: string): [string, string][] =>
  summary.failed > 0 ? [[label, `${summary.failed} (run the same command again)`]] : [];

/** A record's version as the batch tables print it: `v3`, or `-` for none. */
export const versionCell = (version: number | null): string => (version === null ? '-' : `v${version}`);
