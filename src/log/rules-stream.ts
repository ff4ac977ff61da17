/**
 * Which routing-log streams hold rules records, apart from the records' schema
 * (src/log/rules-records.ts): the projector only needs to skip them, without the routing table's
 * validation in its bundle.
 */
export const RULES_STREAM = 'rules#routing';

export const isRulesStream = (stream: unknown): boolean =>
  typeof stream === 'string' && stream.startsWith('rules#');
