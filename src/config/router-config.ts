import {
  httpUrl,
  kmsKeyId,
  loadConfig,
  numberIn,
  optional,
  queueMaxMessageBytes,
  required,
  stageName,
  tableName,
  withDefault,
} from './load-config.ts';

const routerEnvironment = {
  STAGE: required(stageName),
  EVENT_LOG_TABLE: required(tableName),
  CREDITS_TABLE: required(tableName),
  /** Seconds the router trusts its read of the published rules (src/rules/active-rules.ts). */
  RULES_CACHE_SECONDS: withDefault(numberIn(0, 300), 10),
  /** Transit keys and retained user content (`RoutingContent-<Stage>`, docs/DATA_PROTECTION.md). */
  CONTENT_TABLE: required(tableName),
  /** The customer-managed key transit keys are generated under (template ContentKmsKeyArn or ContentKey). */
  CONTENT_KMS_KEY_ID: required(kmsKeyId),
  /** The HMAC_256 key payload-hash keys are derived from (template PayloadHashKey). */
  PAYLOAD_HASH_KMS_KEY_ID: required(kmsKeyId),
  PROVIDER_QUEUE_MAX_MESSAGE_BYTES: queueMaxMessageBytes,
  /** Optional: without it the router does not consult provider health (every provider healthy). */
  PROVIDER_HEALTH_TABLE: optional(tableName),
  /** How long a router instance reuses its read of provider health (default 5 s). */
  HEALTH_CACHE_SECONDS: withDefault(numberIn(0, 60, { integer: true }), 5),
  /** Optional: the hold backlog (HoldQueue); without it a job finding every candidate full is rejected. */
  HOLD_QUEUE_URL: optional(httpUrl),
  /** The bounded wait between checks of a held job (default 30 s; SQS delays at most 900). */
  HOLD_RECHECK_SECONDS: withDefault(numberIn(1, 900, { integer: true }), 30),
};

export interface RouterConfig {
  readonly stage: string;
  readonly contentKmsKeyId: string;
  readonly payloadHashKmsKeyId: string;
  readonly eventLogTable: string;
  readonly creditsTable: string;
  readonly rulesCacheMs: number;
  readonly contentTable: string;
  readonly queueMaxMessageBytes: number;
  readonly providerHealthTable: string | undefined;
  readonly healthCacheSeconds: number;
  readonly holdQueueUrl: string | undefined;
  readonly holdRecheckSeconds: number;
}

export function loadRouterConfig(env: Readonly<Record<string, string | undefined>>): RouterConfig {
  const parsed = loadConfig('router', routerEnvironment, env);
  return {
    stage: parsed.STAGE,
    contentKmsKeyId: parsed.CONTENT_KMS_KEY_ID,
    payloadHashKmsKeyId: parsed.PAYLOAD_HASH_KMS_KEY_ID,
    eventLogTable: parsed.EVENT_LOG_TABLE,
    creditsTable: parsed.CREDITS_TABLE,
    rulesCacheMs: parsed.RULES_CACHE_SECONDS * 1000,
    contentTable: parsed.CONTENT_TABLE,
    queueMaxMessageBytes: parsed.PROVIDER_QUEUE_MAX_MESSAGE_BYTES,
    providerHealthTable: parsed.PROVIDER_HEALTH_TABLE,
    healthCacheSeconds: parsed.HEALTH_CACHE_SECONDS,
    holdQueueUrl: parsed.HOLD_QUEUE_URL,
    holdRecheckSeconds: parsed.HOLD_RECHECK_SECONDS,
  };
}
