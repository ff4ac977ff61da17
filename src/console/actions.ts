/**
 * The console's actions: force a breaker (or give it back to the breaker), replay, re-drive. Each
 * is the CLI verb itself, run with the console operator's identity (`--by`) and the reason typed
 * on the page. Off unless the console was started with `--allow-actions`; a replay or re-drive is
 * always previewed first (`--dry-run`, allowed read-only: it appends nothing), and the real run
 * needs the operator to type the incident key (a breaker change: the breaker's name) to confirm.
 */
import { RoutingManagerError } from '../errors.ts';
import { type Panel, type WindowName, windowOf } from './panels.ts';
import { jsonLinesOf, type RunVerb } from './verb-runner.ts';

export class ActionRefusedError extends RoutingManagerError {
  constructor(reason: 'read_only' | 'not_confirmed' | 'reason_required', message: string) {
    super(reason, message);
    this.name = 'ActionRefusedError';
  }
}

export interface ActionPolicy {
  readonly allowActions: boolean;
  /** Who acts: the console's `--by` (default: the OS user), recorded with every change. */
  readonly by: string;
}

export interface BreakerAction {
  readonly mode: 'open' | 'close' | 'auto';
  readonly provider: string;
  readonly model?: string | undefined;
  readonly reason: string;
  /** Must equal the breaker's name (`fal`, `fal#wan-i2v`). */
  readonly confirm: string;
}

export interface WindowAction {
  readonly kind: 'replay' | 'redrive';
  readonly incident: string;
  readonly providers: readonly string[];
  readonly window: WindowName;
  readonly reason: string;
  readonly dryRun: boolean;
  /** For a real run: must equal the incident key. */
  readonly confirm?: string | undefined;
}

function requireActions(policy: ActionPolicy): void {
  if (!policy.allowActions)
    throw new ActionRefusedError(
      'read_only',
      'this console is read-only: start it with --allow-actions to change breakers, replay or re-drive',
    );
}

function requireReason(reason: string): string {
  const trimmed = reason.trim();
  if (!trimmed) throw new ActionRefusedError('reason_required', 'a reason is required: it is recorded');
  return trimmed;
}

const resultOf = (run: Awaited<ReturnType<RunVerb>>, parse: boolean): Panel<unknown> => ({
  commands: [run.commandLine],
  data: run.code === 0 ? (parse ? (jsonLinesOf(run)[0] ?? null) : run.stdout.trim()) : null,
  error:
    run.code === 0
      ? null
      : {
          command: run.commandLine,
          exitCode: run.code,
          message: run.stderr.trim().replace(/^routing-manager: /, '') || `exit ${run.code}`,
        },
});

export async function changeBreaker(run: RunVerb, policy: ActionPolicy, action: BreakerAction) {
  requireActions(policy);
  const breaker = action.model ? `${action.provider}#${action.model}` : action.provider;
  if (action.confirm !== breaker)
    throw new ActionRefusedError('not_confirmed', `type the breaker's name (${breaker}) to confirm`);
  const reason = requireReason(action.reason);
  const result = await run([
    'provider',
    action.mode,
    `--why=${reason}`,
    `--by=${policy.by}`,
    ...(action.model ? [`--model=${action.model}`] : []),
    '--',
    action.provider,
  ]);
  return resultOf(result, false);
}

export async function replayOrRedrive(run: RunVerb, policy: ActionPolicy, action: WindowAction, now: Date) {
  if (!action.dryRun) {
    requireActions(policy);
    if (action.confirm !== action.incident)
      throw new ActionRefusedError('not_confirmed', 'type the incident key to confirm');
  }
  const reason = action.dryRun ? action.reason.trim() : requireReason(action.reason);
  const span = windowOf(action.window, now);
  const result = await run([
    action.kind,
    `--incident=${action.incident}`,
    ...(action.providers.length > 0 ? [`--provider=${action.providers.join(',')}`] : []),
    `--since=${span.since}`,
    `--until=${span.until}`,
    ...(reason ? [`--why=${reason}`] : []),
    `--by=${policy.by}`,
    ...(action.dryRun ? ['--dry-run'] : []),
  ]);
  return resultOf(result, true);
}
