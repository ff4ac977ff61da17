/**
 * The WindowCloser Lambda's entry (template.yaml: `window-closer.handler`). It validates the
 * environment and wires the AWS adapters once, at init. Everything else imports the
 * side-effect-free factory, src/handlers/window-closer.ts.
 */
import { loadWindowCloserConfig } from '../config/window-closer-config.ts';
import { createWindowCloserHandler, windowCloserDependencies } from '../handlers/window-closer.ts';
import { createTelemetry } from '../observability/telemetry.ts';

export const handler = createWindowCloserHandler(
  windowCloserDependencies(loadWindowCloserConfig(process.env)),
  createTelemetry('window-closer'),
);
