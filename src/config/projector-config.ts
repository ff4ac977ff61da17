/**
 * Environment of the projector Lambda, validated once at cold start (src/config/load-config.ts).
 */
import * as z from 'zod';
import { loadConfig, queueMaxMessageBytes, stageName, tableName } from './load-config.ts';

const queueUrl = z.url({ protocol: /^https?$/ });

/**
 * Queue URLs of the providers beyond fal and replicate, as one JSON object keyed by the provider
 * ids the routing table declares: `{"veo":"https://sqs.…/VeoJobQueue"}`. Adding a provider is a
 * table entry (`rules publish`) and one entry here — no code change.
 */
const providerQueueUrls = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of provider id → queue URL' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'provider ids are lower-case names'), queueUrl),
  )
  .default({});

export const projectorConfigSchema = z.object({
  STAGE: stageName,
  /** Informational: the table whose stream triggers the projector (logged, never read). */
  EVENT_LOG_TABLE: tableName.optional(),
  /** Completion markers (`RoutingEffects-<Stage>`). */
  EFFECTS_TABLE: tableName,
  /** The shared Jobs table whose routing attributes the projector converges. */
  JOBS_TABLE: tableName,
  FAL_QUEUE_URL: queueUrl,
  REPLICATE_QUEUE_URL: queueUrl,
  PROVIDER_QUEUE_URLS: providerQueueUrls,
  /** Bus the decisions are announced on. */
  EVENT_BUS_NAME: z.string().min(1).default('default'),
  /** Days a completion marker is kept; must exceed the stream's 24 h retention. */
  EFFECT_MARKER_TTL_DAYS: z.coerce.number().int().min(2).max(365).default(7),
  /** Transit keys and retained user content (`RoutingContent-<Stage>`, docs/DATA_PROTECTION.md). */
  CONTENT_TABLE: tableName,
  /** Days user content is retained after its decision (template parameter ContentRetentionDays). */
  CONTENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  PROVIDER_QUEUE_MAX_MESSAGE_BYTES: queueMaxMessageBytes,
});

export interface ProjectorConfig {
  readonly stage: string;
  readonly eventLogTable: string | null;
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

export function loadProjectorConfig(env: Record<string, string | undefined>): ProjectorConfig {
  const parsed = loadConfig('projector', projectorConfigSchema, env);
  return {
    stage: parsed.STAGE,
    eventLogTable: parsed.EVENT_LOG_TABLE ?? null,
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
