/**
 * Rendering for the command line: plain aligned tables for people, JSON for scripts. Pure string
 * building; the caller decides where it goes (stdout for results, stderr for everything else).
 */

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
  readonly amount: number;
  readonly unit: typeof COST_UNIT;
}
export const costOf = (amount: number): Cost => ({ amount, unit: COST_UNIT });
export const renderCost = (amount: number): string => `${amount} ${COST_UNIT}`;
