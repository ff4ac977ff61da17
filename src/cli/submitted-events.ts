/**
 * Reads the submissions `npm run local` feeds the router: JSON files, each one EventBridge event,
 * just its `detail`, or an array of either. A bare detail is wrapped into the envelope EventBridge
 * would deliver (generated id, source frontend.api, detail-type video.job.submitted), so a sample
 * can be as small as the job itself.
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RoutingManagerError } from '../errors.ts';
import { parseJsonText } from '../intake/json-text.ts';
import { SUBMISSION_DETAIL_TYPE, SUBMISSION_SOURCE, type SubmittedEvent } from '../intake/submission.ts';

export interface SubmittedInput {
  /** Where the event came from: `file` or `file[index]` for an array element. */
  readonly origin: string;
  readonly event: SubmittedEvent & Record<string, unknown>;
}

/**
 * An input file (events, credits) that cannot be used; the message says why, and where when the
 * place is known: `FILE:LINE:COLUMN: not JSON: colon expected`, as compilers print it.
 */
export class EventFileError extends RoutingManagerError {
  readonly path: string;
  constructor(
    path: string,
    message: string,
    options?: ErrorOptions & { readonly at?: { readonly line: number; readonly column: number } },
  ) {
    const at = options?.at ? `:${options.at.line}:${options.at.column}` : '';
    super('invalid_event_file', `${path}${at}: ${message}`, options);
    this.name = 'EventFileError';
    this.path = path;
  }
}

/** The samples `npm run local` uses when given no paths: `events/submitted-*.json`, in name order. */
export const DEFAULT_SAMPLE_PREFIX = 'submitted-';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isEnvelope = (value: Record<string, unknown>): boolean =>
  'detail' in value && ('detail-type' in value || 'source' in value);

/** Another kind of sample (a stream batch, an SQS batch, a scheduled event): not a submission. */
export const isOtherEventKind = (value: unknown): boolean =>
  isObject(value) && (Array.isArray(value.Records) || value.source === 'aws.events');

export interface EnvelopeDefaults {
  readonly newId: () => string;
  readonly now: () => Date;
  readonly region?: string;
}

export function asSubmittedEvent(value: unknown, defaults: EnvelopeDefaults): SubmittedInput['event'] {
  if (isObject(value) && isEnvelope(value)) return value;
  return {
    version: '0',
    id: defaults.newId(),
    'detail-type': SUBMISSION_DETAIL_TYPE,
    source: SUBMISSION_SOURCE,
    account: '000000000000',
    time: defaults
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    region: defaults.region ?? 'us-east-1',
    resources: [],
    detail: value,
  };
}

async function parseFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EventFileError(path, (error as Error).message, { cause: error });
  }
  const parsed = parseJsonText(text);
  if (parsed.ok) return parsed.value;
  throw new EventFileError(path, `not JSON: ${parsed.problem}`, { at: parsed });
}

async function filesOf(path: string, onlyPrefix?: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new EventFileError(path, 'no such file or directory');
  }
  if (!info.isDirectory()) return [path];
  return (await readdir(path))
    .filter((name) => name.endsWith('.json') && (!onlyPrefix || name.startsWith(onlyPrefix)))
    .sort()
    .map((name) => join(path, name));
}

/**
 * Loads the events of every path, in order. A directory contributes its `*.json` files in name
 * order, skipping samples of other event kinds (reported through `onSkip`); a file given by name is
 * always used as it is.
 */
export async function loadSubmittedEvents(
  paths: readonly string[],
  defaults: EnvelopeDefaults & { onSkip?: (path: string) => void; onlyPrefix?: string },
): Promise<SubmittedInput[]> {
  const inputs: SubmittedInput[] = [];
  for (const path of paths) {
    const fromDirectory = (await stat(path).catch(() => null))?.isDirectory() === true;
    for (const file of await filesOf(path, defaults.onlyPrefix)) {
      const content = await parseFile(file);
      if (fromDirectory && isOtherEventKind(content)) {
        defaults.onSkip?.(file);
        continue;
      }
      if (Array.isArray(content)) {
        for (const [index, item] of content.entries()) {
          inputs.push({ origin: `${file}[${index}]`, event: asSubmittedEvent(item, defaults) });
        }
      } else {
        inputs.push({ origin: file, event: asSubmittedEvent(content, defaults) });
      }
    }
  }
  return inputs;
}

export const originName = (origin: string): string => basename(origin);
