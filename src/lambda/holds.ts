/**
 * The Holds Lambda's entry (template.yaml: `holds.handler`): the consumer of HoldQueue-<Stage>. It
 * validates the environment and wires the AWS adapters once, at init. Everything else imports the
 * side-effect-free factory, src/handlers/holds.ts.
 */
import { loadHoldsConfig } from '../config/holds-config.ts';
import { createHoldsHandler, holdsDependencies } from '../handlers/holds.ts';
import { createTelemetry } from '../observability/telemetry.ts';

export const handler = createHoldsHandler(
  holdsDependencies(loadHoldsConfig(process.env)),
  createTelemetry('holds'),
);
