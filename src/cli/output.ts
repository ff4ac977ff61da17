/**
 * Rendering for the command line: plain aligned tables for people, JSON for scripts. Pure string
 * building; the caller decides where it goes (stdout for results, stderr for everything else).
 */
import { type CostComparison, MAX_ESTIMABLE_COST } from '../routing/cost.ts';

/** A left-aligned text table with a header rule; cells keep their text, long ones widen the column. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/**
 * A report's table section: a blank line, the title if any, the table; no lines at all for no rows
 * (a report says nothing rather than print an empty table).
 */
export function tableSection(
  title: string | null,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  if (rows.length === 0) return [];
  return ['', ...(title === null ? [] : [title]), renderTable(headers, rows)];
}

/** A count of decisions that would move (or moved) from one outcome/provider to another. */
export interface DecisionMove {
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

/** The moves table of what-if, the publish gate and the shadow report: one layout for all three. */
export const movesSection = (moves: readonly DecisionMove[]): string[] =>
  tableSection(
    null,
    ['from', 'to', 'count'],
    moves.map((move) => [move.from, move.to, String(move.count)]),
  );

/** Indented `key: value` lines, for one object (a summary). */
export function renderFacts(facts: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...facts.map(([key]) => key.length));
  return facts.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${value}`).join('\n');
}

export const jsonLine = (value: unknown): string => JSON.stringify(value);

export const orDash = (value: string | number | null | undefined): string =>
  value === null || value === undefined || value === '' ? '-' : String(value);

/** Costs are estimates in the routing table's credit units (pricePerSecond × lengthSec). */
export const COST_UNIT = 'credits';
export interface Cost {
  /** null: not computable (beyond MAX_ESTIMABLE_COST, src/routing/cost.ts). */
  readonly amount: number | null;
  readonly unit: typeof COST_UNIT;
}
export const costOf = (amount: number | null): Cost => ({ amount, unit: COST_UNIT });
export const renderCost = (amount: number | null): string =>
  amount === null ? `not computable (beyond ${MAX_ESTIMABLE_COST} ${COST_UNIT})` : `${amount} ${COST_UNIT}`;

/**
 * `12.5 → 14 credits (+1.5 credits)` (each side labelled when labels are given), and how many costs
 * were not computable when any were.
 */
export function renderCostChange(cost: CostComparison, labels: readonly [string, string] = ['', '']): string {
  const delta = cost.delta > 0 ? `+${cost.delta}` : String(cost.delta);
  const side = (label: string, amount: number) => (label ? `${label} ${amount}` : String(amount));
  const change = `${side(labels[0], cost.before)} → ${side(labels[1], cost.after)} ${COST_UNIT} (${delta} ${COST_UNIT})`;
  return cost.notComputable
    ? `${change}; not computable, left out: ${cost.notComputable.before} → ${cost.notComputable.after}`
    : change;
}
