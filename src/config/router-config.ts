import * as z from 'zod';
import { loadConfig, stageName, tableName } from './load-config.ts';

const routerEnvironment = z.object({
  STAGE: stageName,
  EVENT_LOG_TABLE: tableName,
  CREDITS_TABLE: tableName,
  /** Transit keys and retained user content (`RoutingContent-<Stage>`, docs/DATA_PROTECTION.md). */
  CONTENT_TABLE: tableName,
});

export interface RouterConfig {
  readonly stage: string;
  readonly eventLogTable: string;
  readonly creditsTable: string;
  readonly contentTable: string;
}

export function loadRouterConfig(env: Readonly<Record<string, string | undefined>>): RouterConfig {
  const parsed = loadConfig('router', routerEnvironment, env);
  return {
    stage: parsed.STAGE,
    eventLogTable: parsed.EVENT_LOG_TABLE,
    creditsTable: parsed.CREDITS_TABLE,
    contentTable: parsed.CONTENT_TABLE,
  };
}
