/**
 * The option parsers and option groups several verbs share, so no verb imports another: lists
 * (`collect`: repeat the option or separate values with commas), positive counts, and the audit
 * window (`--since`, `--until`).
 */
import { type Command, InvalidArgumentError } from 'commander';

export const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
];

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** `--since` (required, unless a default is given) and `--until` (default now). */
export const windowOptions = (command: Command, since?: string): Command =>
  (since === undefined
    ? command.requiredOption(
        '--since <time>',
        'window start, inclusive (2026-11-25, 2026-11-25T10:00:00Z, 6h, now)',
      )
    : command.option(
        '--since <time>',
        'window start, inclusive (2026-11-25, 2026-11-25T10:00:00Z, 6h)',
        since,
      )
  ).option('--until <time>', 'window end, exclusive', 'now');
