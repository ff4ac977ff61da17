/**
 * The router Lambda's entry (template.yaml: `router.handler`). It validates the environment and
 * wires the AWS adapters once, at init, so the cold start pays for them and no job does; a
 * misconfigured function fails its init with a ConfigurationError naming every bad variable.
 * Everything else imports the side-effect-free factory, src/handlers/router.ts.
 */
import { loadRouterConfig } from '../config/router-config.ts';
import { createRouterHandler, routerDependencies, rulesReadFailureReporter } from '../handlers/router.ts';
import { createTelemetry } from '../observability/telemetry.ts';

const telemetry = createTelemetry('router');
export const handler = createRouterHandler(
  routerDependencies(loadRouterConfig(process.env), {
    onRulesReadFailure: rulesReadFailureReporter(telemetry),
  }),
  telemetry,
);
