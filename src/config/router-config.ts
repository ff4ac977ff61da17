import { z } from 'zod';
import { loadConfig } from './load-config.ts';

const tableName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');

export const routerConfigSchema = z.object({
  STAGE: z.string().min(1),
  EVENT_LOG_TABLE: tableName,
  CREDITS_TABLE: tableName,
});

export interface RouterConfig {
  readonly stage: string;
  readonly eventLogTable: string;
  readonly creditsTable: string;
}

export function loadRouterConfig(env: Record<string, string | undefined>): RouterConfig {
  const parsed = loadConfig('router', routerConfigSchema, env);
  return { stage: parsed.STAGE, eventLogTable: parsed.EVENT_LOG_TABLE, creditsTable: parsed.CREDITS_TABLE };
}
