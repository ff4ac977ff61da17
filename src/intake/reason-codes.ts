/**
 * The closed set of machine-readable reasons a job can be rejected with. Dashboards group by
 * these strings and consumers branch on them: adding one is a contract change (docs/EVENT_SCHEMA.md).
 */
export const REJECTION_REASONS = [
  'invalid_request',
  'unknown_provider',
  'no_route',
  'capability_mismatch',
  'insufficient_credits',
  'message_too_large',
  'no_healthy_provider',
  'retries_exhausted',
  'provider_failed',
  'capacity_exhausted',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];
