/**
 * Environment of the projector Lambda, validated once at cold start (src/config/load-config.ts).
 */
import {
  httpUrl,
  kmsKeyId,
  loadConfig,
  numberIn,
  Problem,
  queueMaxMessageBytes,
  type Reader,
  required,
  stageName,
  tableName,
  withDefault,
} from './load-config.ts';

const PROVIDER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Queue URLs of the providers beyond fal and replicate, as one JSON object keyed by the provider
 * ids the routing table declares: `{"veo":"https://sqs.…/VeoJobQueue"}`. Adding a provider is a
 * table entry (`rules publish`) and one entry here — no code change.
 */
const providerQueueUrls: Reader<Record<string, string>> = (text) => {
  let mapping: unknown;
  try {
    mapping = JSON.parse(text);
  } catch {
    return new Problem('must be a JSON object of provider id → queue URL');
  }
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
    return new Problem('must be a JSON object of provider id → queue URL');
  }
  const urls: Record<string, string> = {};
  for (const [provider, url] of Object.entries(mapping)) {
    // Provider ids are never echoed back: the message names the rule, not the value.
    if (!PROVIDER_ID.test(provider)) return new Problem('provider ids are lower-case names');
    const checked = typeof url === 'string' ? httpUrl(url) : new Problem('must be an http(s) URL');
    if (checked instanceof Problem) return new Problem(`queue URLs ${checked.message}`);
    urls[provider] = checked;
  }
  return urls;
};

const projectorEnvironment = {
  STAGE: required(stageName),
  /** Completion markers (`RoutingEffects-<Stage>`). */
  EFFECTS_TABLE: required(tableName),
  /** The shared Jobs table whose routing attributes the projector converges. */
  JOBS_TABLE: required(tableName),
  FAL_QUEUE_URL: required(httpUrl),
  REPLICATE_QUEUE_URL: required(httpUrl),
  PROVIDER_QUEUE_URLS: withDefault(providerQueueUrls, {}),
  /** Bus the decisions are announced on. */
  EVENT_BUS_NAME: withDefault((text: string) => text, 'default'),
  /** Days a completion marker is kept; must exceed the stream's 24 h retention. */
  EFFECT_MARKER_TTL_DAYS: withDefault(numberIn(2, 365, { integer: true }), 7),
  /** Transit keys and retained user content (`RoutingContent-<Stage>`, docs/DATA_PROTECTION.md). */
  CONTENT_TABLE: required(tableName),
  /** The customer-managed key transit keys are wrapped under: the projector unwraps (kms:Decrypt). */
  CONTENT_KMS_KEY_ID: required(kmsKeyId),
  /** Days user content is retained after its decision (template parameter ContentRetentionDays). */
  CONTENT_RETENTION_DAYS: withDefault(numberIn(1, 3650, { integer: true }), 30),
  PROVIDER_QUEUE_MAX_MESSAGE_BYTES: queueMaxMessageBytes,
};

export interface ProjectorConfig {
  readonly stage: string;
  readonly contentKmsKeyId: string;
  readonly effectsTable: string;
  readonly jobsTable: string;
  /** Queue URL per provider id, as routing decisions name providers. */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly eventBusName: string;
  readonly effectMarkerTtlDays: number;
  readonly contentTable: string;
  readonly contentRetentionDays: number;
  readonly queueMaxMessageBytes: number;
}

export function loadProjectorConfig(env: Readonly<Record<string, string | undefined>>): ProjectorConfig {
  const parsed = loadConfig('projector', projectorEnvironment, env);
  return {
    stage: parsed.STAGE,
    contentKmsKeyId: parsed.CONTENT_KMS_KEY_ID,
    effectsTable: parsed.EFFECTS_TABLE,
    jobsTable: parsed.JOBS_TABLE,
    queueUrls: {
      fal: parsed.FAL_QUEUE_URL,
      replicate: parsed.REPLICATE_QUEUE_URL,
      ...parsed.PROVIDER_QUEUE_URLS,
    },
    eventBusName: parsed.EVENT_BUS_NAME,
    effectMarkerTtlDays: parsed.EFFECT_MARKER_TTL_DAYS,
    contentTable: parsed.CONTENT_TABLE,
    contentRetentionDays: parsed.CONTENT_RETENTION_DAYS,
    queueMaxMessageBytes: parsed.PROVIDER_QUEUE_MAX_MESSAGE_BYTES,
  };
}
