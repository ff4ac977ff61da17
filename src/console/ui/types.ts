/** What the console's API answers (src/console/panels.ts), as the page reads it. */
import type { CapacityLine } from '../panels.ts';
import type { PanelError } from './api.ts';

// The slot ledger's line is the verb's own (`capacity --json`): one definition, erased from the bundle.
export type { CapacityLine };
export interface Breaker {
  readonly breaker: string;
  readonly status: string;
  readonly mode: string;
  readonly since: string | null;
  readonly reason: string;
  readonly detail: string;
  readonly openUntil: string | null;
  readonly version: number;
  readonly window: {
    readonly attempts: number;
    readonly failures: number;
    readonly successRate: number | null;
  };
}

export interface DecisionLine {
  readonly recordedAt: string;
  readonly jobId: string | null;
  readonly stream: string;
  readonly outcome: 'routed' | 'rejected';
  readonly provider: string | null;
  readonly model: string | null;
  readonly reason: string | null;
  readonly panic: boolean;
}

export interface Transition {
  readonly at: string;
  readonly breaker: string;
  readonly version: number;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface Overview {
  readonly now: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly providers: readonly {
    readonly provider: string;
    readonly breakers: readonly Breaker[];
    readonly panicDecisions: number;
    readonly routed: number;
    readonly capacity: CapacityLine | null;
  }[];
  readonly capacityError: PanelError | null;
  readonly series: {
    readonly buckets: readonly number[];
    readonly bucketSeconds: number;
    readonly series: readonly { readonly label: string; readonly counts: readonly number[] }[];
    readonly transitions: readonly Transition[];
  };
  readonly recent: readonly DecisionLine[];
}

export interface Config {
  readonly readOnly: boolean;
  readonly showContent: boolean;
  readonly by: string;
  readonly refreshSeconds: number;
}
