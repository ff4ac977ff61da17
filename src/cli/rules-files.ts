/**
 * Reading a routing table from a file, for `what-if --rules` and `rules validate|publish|shadow|canary`:
 * a missing file or a file that is not JSON is a usage error naming the file and the place; an
 * invalid table lists every problem at once.
 */
import { readFile } from 'node:fs/promises';
import { parseJsonText } from '../intake/json-text.ts';
import { InvalidRoutingTableError, loadRoutingTable, type RoutingTable } from '../routing/routing-table.ts';
import { UsageError } from './cli-context.ts';

/** A rules file's JSON value; a missing or non-JSON file is a usage error naming the file. */
export async function readRulesJson(path: string, label = '--rules'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${label} ${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = parseJsonText(text);
  if (parsed.ok) return parsed.value;
  throw new UsageError(`${label} ${path}:${parsed.line}:${parsed.column}: not JSON: ${parsed.problem}`);
}

/** A validated candidate table; every problem of an invalid one is listed in the usage error. */
export async function readRoutingTableFile(path: string, label = '--rules'): Promise<RoutingTable> {
  const input = await readRulesJson(path, label);
  try {
    return loadRoutingTable(input);
  } catch (error) {
    if (error instanceof InvalidRoutingTableError)
      throw new UsageError(`${label} ${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
