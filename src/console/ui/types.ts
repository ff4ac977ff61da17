/**
 * What the console's API answers, as the page reads it: the server's own types (src/console/panels.ts,
 * src/console/decision-series.ts) — one definition, type-only, so nothing of the server reaches the
 * bundle.
 */
export type { TransitionMark as Transition } from '../decision-series.ts';
export type {
  BreakerLine as Breaker,
  CapacityLine,
  DecisionLine,
  OverviewData as Overview,
} from '../panels.ts';

export interface Config {
  readonly readOnly: boolean;
  readonly showContent: boolean;
  readonly by: string;
  readonly refreshSeconds: number;
}
