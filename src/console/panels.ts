/**
 * What each panel of the console shows, as the CLI verbs it runs (src/console/verb-runner.ts):
 * never a query of its own. Each answer carries the command lines it ran, so what the page shows can
 * be re-run — and audited — in a terminal.
 *
 * Arguments a person typed are passed as `--option=value` or after `--`, so no value is ever taken
 * for an option of the CLI.
 */

import {
  CorruptRulesRecordError,
  type RulesState,
  rulesRecordFromItem,
  rulesStateOf,
} from '../log/rules-records.ts';
import type { BreakerView } from '../provider-health/health-view.ts';
import {
  type DecisionPoint,
  type DecisionSeries,
  decisionSeries,
  type TransitionMark,
} from './decision-series.ts';
import { jsonLinesOf, type RunVerb, type VerbRun } from './verb-runner.ts';

/** A verb that failed: its exit code and the CLI's own (content-free) message. */
export interface PanelError {
  readonly command: string;
  readonly exitCode: number;
  readonly message: string;
}

export interface Panel<T> {
  readonly commands: readonly string[];
  readonly data: T | null;
  readonly error: PanelError | null;
}

export const WINDOWS = { '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000 };
export type WindowName = keyof typeof WINDOWS;
export const isWindowName = (value: string): value is WindowName => Object.hasOwn(WINDOWS, value);

export function windowOf(name: WindowName, now: Date): { since: string; until: string } {
  return { since: new Date(now.getTime() - WINDOWS[name]).toISOString(), until: now.toISOString() };
}

const errorOf = (run: VerbRun): PanelError => ({
  command: run.commandLine,
  exitCode: run.code,
  message: run.stderr.trim().replace(/^routing-manager: /, '') || `exit ${run.code}`,
});

/** Runs one verb; its JSON lines, or the error the CLI reported. */
async function linesOf(run: RunVerb, argv: readonly string[]): Promise<{ run: VerbRun; lines: unknown[] }> {
  const result = await run(argv);
  return { run: result, lines: result.code === 0 ? jsonLinesOf(result) : [] };
}

function panel<T>(runs: readonly VerbRun[], data: T, tolerated: readonly number[] = []): Panel<T> {
  const failed = runs.find((r) => r.code !== 0 && !tolerated.includes(r.code));
  return {
    commands: runs.map((r) => r.commandLine),
    data: failed ? null : data,
    error: failed ? errorOf(failed) : null,
  };
}

// ---------------------------------------------------------------------------------- providers

/** A breaker line of `health --output json` (src/provider-health/health-view.ts: one definition). */
export type BreakerLine = BreakerView;

export interface DecisionLine extends DecisionPoint {
  readonly jobId: string | null;
  readonly stream: string;
  readonly model: string | null;
  readonly matchedRule: string | null;
  readonly panic: boolean;
}

/**
 * One provider's line of `capacity --json` (src/cli/verbs/capacity.ts): its slot ledger as the
 * routers see it. Columns the verb gains later (jobs held for a slot, ETAs) pass through as they are.
 */
export interface CapacityLine {
  readonly provider: string;
  /** null: no concurrency in the rules in force (unlimited, no slot taken). */
  readonly limit: number | null;
  readonly inFlight: number | null;
  readonly expired: number | null;
  readonly free: number | null;
  readonly shards: number | null;
  readonly jobTimeoutSec: number;
  readonly rulesVersion: string;
  /** Jobs held for a slot, when the verb reports them. */
  readonly held?: number | null;
  readonly [column: string]: unknown;
}

export interface OverviewData {
  readonly now: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly providers: readonly {
    readonly provider: string;
    readonly breakers: readonly BreakerLine[];
    /** Decisions in the window routed to it in panic mode (every candidate unhealthy). */
    readonly panicDecisions: number;
    readonly routed: number;
    /** Its line of `capacity --json`; null when the rules in force do not name it or the verb failed. */
    readonly capacity: CapacityLine | null;
  }[];
  /**
   * `capacity --json` failed (e.g. no provider health table): its error, shown on the strip, while
   * breakers and decisions still show — the slot ledger is one fact among the panel's.
   */
  readonly capacityError: PanelError | null;
  readonly series: DecisionSeries;
  /** The newest decisions of the window, newest first (the "recent jobs" list). */
  readonly recent: readonly DecisionLine[];
}

const providerOf = (breaker: string): string => breaker.split('#')[0] as string;

/** Audit partitions besides the providers: requests for `auto`, and rejections filed under `none`. */
const EXTRA_PARTITIONS = ['auto', 'none'];
const RECENT_JOBS = 50;

export async function overview(run: RunVerb, window: WindowName, now: Date): Promise<Panel<OverviewData>> {
  const span = windowOf(window, now);
  const [health, capacity] = await Promise.all([
    linesOf(run, ['health']),
    linesOf(run, ['capacity', '--json']),
  ]);
  const breakers = health.lines as BreakerLine[];
  const slots = capacity.lines as CapacityLine[];
  // Breakers' providers first (the health table's order), then any the rules limit that has none yet.
  const providers = [
    ...new Set([...breakers.map((b) => providerOf(b.breaker)), ...slots.map((c) => c.provider)]),
  ];
  const partitions = [...providers, ...EXTRA_PARTITIONS].join(',');
  const [decisions, ...histories] = await Promise.all([
    linesOf(run, ['decisions', `--provider=${partitions}`, `--since=${span.since}`, `--until=${span.until}`]),
    ...breakers.map((b) => linesOf(run, ['history', '--', `health#${b.breaker}`])),
  ]);
  const rows = (decisions?.lines ?? []) as DecisionLine[];
  const transitions: TransitionMark[] = histories.flatMap(({ lines }) =>
    (lines as { records?: { type: string; transition?: TransitionRecord }[] }[]).flatMap((history) =>
      (history.records ?? []).flatMap((record) =>
        record.type === 'ProviderHealthChanged' && record.transition ? [markOf(record.transition)] : [],
      ),
    ),
  );
  const runs = [health.run, ...(decisions ? [decisions.run] : []), ...histories.map((h) => h.run)];
  const overviewPanel = panel(
    runs,
    {
      now: now.toISOString(),
      window: span,
      providers: providers.map((provider) => ({
        provider,
        breakers: breakers.filter((b) => providerOf(b.breaker) === provider),
        panicDecisions: rows.filter((r) => r.panic && r.provider === provider).length,
        routed: rows.filter((r) => r.outcome === 'routed' && r.provider === provider).length,
        capacity: slots.find((c) => c.provider === provider) ?? null,
      })),
      capacityError: capacity.run.code === 0 ? null : errorOf(capacity.run),
      series: decisionSeries(rows, transitions, span),
      recent: rows.slice(-RECENT_JOBS).reverse(),
    },
    // A breaker that never changed has no history stream: `history` says "not found" (exit 3).
    [3],
  );
  // The capacity command is listed with the others (re-runnable); its failure is the strip's, above.
  return {
    ...overviewPanel,
    commands: [health.run.commandLine, capacity.run.commandLine, ...overviewPanel.commands.slice(1)],
  };
}

interface TransitionRecord {
  readonly key: string;
  readonly version: number;
  readonly previousStatus: string;
  readonly status: string;
  readonly reason: string;
  readonly at: string;
}

const markOf = (t: TransitionRecord): TransitionMark => ({
  at: t.at,
  breaker: t.key,
  version: t.version,
  from: t.previousStatus,
  to: t.status,
  reason: t.reason,
});

// ---------------------------------------------------------------------------------- one job

/** `history <jobId>`: the job's records, its Jobs projection and (with --show-content) its content. */
export async function jobTimeline(
  run: RunVerb,
  jobId: string,
  showContent: boolean,
): Promise<Panel<unknown>> {
  const history = await linesOf(run, ['history', ...(showContent ? ['--show-content'] : []), '--', jobId]);
  return panel([history.run], history.lines[0] ?? null);
}

// ---------------------------------------------------------------------------------- rules

interface StoredTableRef {
  readonly rulesVersion: string;
  readonly percent?: number;
}

export interface RulesRecordLine {
  readonly version: number;
  readonly recordedAt: string;
  readonly action: string;
  readonly subject: string;
  readonly by: string;
  readonly why: string;
  readonly forced?: boolean;
  readonly active: StoredTableRef | null;
  readonly shadow: StoredTableRef | null;
  readonly canary: StoredTableRef | null;
}

export interface RulesData {
  readonly active: string;
  readonly shadow: string | null;
  readonly canary: { readonly rulesVersion: string; readonly percent: number } | null;
  readonly history: readonly Omit<RulesRecordLine, 'active' | 'shadow' | 'canary'>[];
  /**
   * The latest change of what decides: candidate vs active, else the active table the latest change
   * of the active replaced (the fold's `activeChange`) vs active.
   */
  readonly diff: { readonly a: string; readonly b: string; readonly changes: readonly unknown[] } | null;
  /** `rules shadow-report` per slice of the window, oldest first. */
  readonly agreement: readonly {
    readonly since: string;
    readonly until: string;
    readonly shadowed: number;
    readonly agreementRate: number;
  }[];
}

const AGREEMENT_SLICES = 6;

/**
 * `rules history --json` prints each record as stored: read back (checked, upcast) and folded by the
 * rules stream's one fold, as every CLI verb reads the stream. A line that is not a rules record is
 * the panel's error, named by its record (never its content).
 */
function foldedRules(
  run: VerbRun,
  lines: readonly unknown[],
): { readonly state: RulesState } | { readonly error: PanelError } {
  try {
    return { state: rulesStateOf(lines.map((line) => rulesRecordFromItem(line as Record<string, unknown>))) };
  } catch (error) {
    if (!(error instanceof CorruptRulesRecordError)) throw error;
    return { error: { command: run.commandLine, exitCode: run.code, message: error.message } };
  }
}

export async function rules(run: RunVerb, window: WindowName, now: Date): Promise<Panel<RulesData>> {
  const history = await linesOf(run, ['rules', 'history']);
  const records = history.lines as RulesRecordLine[];
  // What is in force, what ran in shadow and the latest change of the active table: the fold's.
  const folded = foldedRules(history.run, history.lines);
  if ('error' in folded) return { commands: [history.run.commandLine], data: null, error: folded.error };
  const { state } = folded;
  const candidate = state.canary?.rulesVersion ?? state.shadow?.rulesVersion ?? null;
  const previousActive = state.activeChange ? (state.activeChange.from ?? 'default') : null;
  const diffArgs = candidate
    ? ['rules', 'diff', '--', 'active', candidate]
    : previousActive
      ? ['rules', 'diff', '--', previousActive, 'active']
      : null;
  const span = windowOf(window, now);
  const slices = Array.from({ length: AGREEMENT_SLICES }, (_, i) => {
    const from = Date.parse(span.since) + (i * WINDOWS[window]) / AGREEMENT_SLICES;
    return {
      since: new Date(from).toISOString(),
      until: new Date(from + WINDOWS[window] / AGREEMENT_SLICES).toISOString(),
    };
  });
  const everShadowed = state.shadowed.size > 0;
  const [diff, ...reports] = await Promise.all([
    diffArgs ? linesOf(run, diffArgs) : null,
    ...(everShadowed
      ? slices.map((slice) =>
          linesOf(run, ['rules', 'shadow-report', `--since=${slice.since}`, `--until=${slice.until}`]),
        )
      : []),
  ]);
  const runs = [history.run, ...(diff ? [diff.run] : []), ...reports.map((r) => r.run)];
  return panel(runs, {
    active: state.active?.rulesVersion ?? 'bundled default',
    shadow: state.shadow?.rulesVersion ?? null,
    canary: state.canary ? { rulesVersion: state.canary.rulesVersion, percent: state.canary.percent } : null,
    history: records.map(({ active: _a, shadow: _s, canary: _c, ...rest }) => rest).reverse(),
    diff: (diff?.lines[0] as RulesData['diff']) ?? null,
    agreement: reports.map((report, i) => {
      const line = (report.lines[0] ?? {}) as { shadowed?: number; agreementRate?: number };
      const slice = slices[i] as { since: string; until: string };
      return { ...slice, shadowed: line.shadowed ?? 0, agreementRate: line.agreementRate ?? 0 };
    }),
  });
}

// ---------------------------------------------------------------------------------- projection

/** The incident key of the console's read-only re-drive preview (a dry run appends nothing). */
export const PREVIEW_INCIDENT = 'console-preview';

/**
 * The projector's lag and abandoned batches (`projector`), and what `redrive --dry-run` finds in the
 * window: records whose effects never completed.
 */
export async function projectionHealth(
  run: RunVerb,
  window: WindowName,
  now: Date,
): Promise<Panel<{ projector: unknown; redrive: unknown }>> {
  const span = windowOf(window, now);
  const [projector, redrive] = await Promise.all([
    linesOf(run, ['projector', `--since=${span.since}`, `--until=${span.until}`]),
    linesOf(run, [
      'redrive',
      `--incident=${PREVIEW_INCIDENT}`,
      `--since=${span.since}`,
      `--until=${span.until}`,
      '--dry-run',
    ]),
  ]);
  return panel([projector.run, redrive.run], {
    projector: projector.lines[0] ?? null,
    redrive: redrive.lines[0] ?? null,
  });
}
