/**
 * The HealthSignals Lambda's entry (template.yaml: `health-signals.handler`). It validates the
 * environment and wires the AWS adapters once, at init. Everything else imports the
 * side-effect-free factory, src/handlers/health-signals.ts.
 */
import { loadHealthSignalsConfig } from '../config/health-signals-config.ts';
import { createHealthSignalsHandler, healthSignalsDependencies } from '../handlers/health-signals.ts';
import { createTelemetry } from '../observability/telemetry.ts';

export const handler = createHealthSignalsHandler(
  healthSignalsDependencies(loadHealthSignalsConfig(process.env)),
  createTelemetry('health-signals'),
);
