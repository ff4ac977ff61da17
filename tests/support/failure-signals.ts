/**
 * A terminal, provider-side failure of job `i` on fal/wan-i2v at `atMs`, as the HealthSignals
 * handler hands it to ingestion: the breaker's RecordAttempt and the attempt it reports. Shared by
 * the window tests that need runs of failures at chosen event times.
 */
import type { RecordAttempt } from '../../src/provider-health/breaker.ts';
import type { HealthSignal } from '../../src/provider-health/signals.ts';

const PAIR = { provider: 'fal', model: 'wan-i2v' } as const;

export function aTerminalFailureAt(atMs: number, i: number): HealthSignal {
  const command: RecordAttempt = {
    type: 'RecordAttempt',
    signalId: `attempt-${i}`,
    at: new Date(atMs).toISOString(),
    outcome: 'failed_terminal',
    errorClass: 'server_error',
    dispatchId: `job-${i}:v1`,
  };
  return {
    ...PAIR,
    key: 'fal#wan-i2v',
    command,
    attempt: {
      jobId: `job-${i}`,
      ...PAIR,
      dispatchId: `job-${i}:v1`,
      outcome: 'failed_terminal',
      errorClass: 'server_error',
    },
  };
}
