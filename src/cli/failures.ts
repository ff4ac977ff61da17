/**
 * From an error to the exit code and a message that says what to do next. The only place that
 * knows which error means which exit code (the codes themselves: src/exit-codes.ts).
 * Messages carry names, ids and settings only — never request content.
 */
import { CredentialsProviderError } from '@smithy/core/config';
import { InvalidIncidentKeyError } from '../commands/replay-plan.ts';
import { EXIT_NOT_FOUND, EXIT_RUNTIME, EXIT_USAGE } from '../exit-codes.ts';
import { contentFreeMessage } from '../observability/content-free-message.ts';
import { InvalidAuditWindowError } from '../queries/audit-window.ts';
import { InvalidEndpointError, MissingRegionError, UnknownProfileError } from './aws-settings.ts';
import { type CliContext, JobNotFoundError, TableNotFoundError, UsageError } from './cli-context.ts';

export interface Failure {
  readonly code: number;
  readonly message: string;
}

const USAGE_ERRORS = [
  UsageError,
  InvalidAuditWindowError,
  InvalidIncidentKeyError,
  MissingRegionError,
  UnknownProfileError,
  InvalidEndpointError,
];

const START_LOCAL = 'start it with `npm run local -- --keep` and paste the export lines it prints';

/** The socket error code of a failed request, looking through SDK wrappers and AggregateErrors. */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors, message } = error as {
    code?: unknown;
    cause?: unknown;
    errors?: unknown;
    message?: unknown;
  };
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT)$/.test(code))
    return code;
  const inMessage =
    typeof message === 'string' ? /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\b/.exec(message) : null;
  if (inMessage) return inMessage[1];
  for (const inner of [cause, ...(Array.isArray(errors) ? errors : [])]) {
    const found = networkCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function unreachable(code: string, context: CliContext | undefined): string {
  const endpoint = context?.endpoint();
  if (endpoint) {
    return (
      `cannot connect to ${endpoint} (${code}): is the local stack running? If not, ${START_LOCAL}; ` +
      'otherwise check --endpoint-url / AWS_ENDPOINT_URL'
    );
  }
  return `cannot reach AWS (${code}): check the network or proxy, and --region`;
}

// Service answers that every later call would get too: the credentials or the account are wrong.
const REFUSED_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'AccessDeniedException',
]);

/**
 * Whether a failed call means the next calls would fail the same way (no connection, no or refused
 * credentials): a command working through many calls stops at the first such failure.
 */
export function failsEveryCall(error: unknown): boolean {
  if (networkCode(error) !== undefined || error instanceof CredentialsProviderError) return true;
  return error instanceof Error && REFUSED_CREDENTIALS.has(error.name);
}

export function failureOf(error: unknown, context: CliContext | undefined): Failure {
  if (USAGE_ERRORS.some((type) => error instanceof type)) {
    return { code: EXIT_USAGE, message: (error as Error).message };
  }
  if (error instanceof JobNotFoundError) return { code: EXIT_NOT_FOUND, message: error.message };
  if (error instanceof TableNotFoundError) return { code: EXIT_RUNTIME, message: error.message };
  const network = networkCode(error);
  if (network) return { code: EXIT_RUNTIME, message: unreachable(network, context) };
  if (error instanceof CredentialsProviderError) {
    const profile = context?.settingsInUse()?.profile;
    return {
      code: EXIT_RUNTIME,
      message:
        `no AWS credentials${profile ? ` for profile ${profile}` : ''}: ${error.message}. ` +
        `Configure them (aws configure, aws sso login), pick a profile with --profile, or for the local stack ${START_LOCAL}`,
    };
  }
  if (error instanceof Error && REFUSED_CREDENTIALS.has(error.name)) {
    const settings = context?.settingsInUse();
    return {
      code: EXIT_RUNTIME,
      message:
        `AWS refused the credentials (${error.name}${settings?.profile ? `, profile ${settings.profile}` : ''}${settings?.endpoint ? `, endpoint ${settings.endpoint}` : ''}): ` +
        `check --profile / AWS_PROFILE and --region, or for the local stack ${START_LOCAL}`,
    };
  }
  // Unexpected errors may come from parsing logged jobs: their messages lose any quoted content.
  return {
    code: EXIT_RUNTIME,
    message:
      error instanceof Error ? `${error.name}: ${contentFreeMessage(error)}` : contentFreeMessage(error),
  };
}
