/**
 * The projector Lambda's entry (template.yaml: `projector.handler`). It validates the environment
 * and wires the AWS adapters once, at init, so the cold start pays for them and no batch does.
 * Everything else imports the side-effect-free factory, src/handlers/projector.ts.
 */
import { loadProjectorConfig } from '../config/projector-config.ts';
import { createProjectorHandler, projectorPorts } from '../handlers/projector.ts';
import { createTelemetry } from '../observability/telemetry.ts';

export const handler = createProjectorHandler(
  projectorPorts(loadProjectorConfig(process.env)),
  createTelemetry('projector'),
);
