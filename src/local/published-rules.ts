/**
 * `npm run local -- --rules FILE`: the table is published as the active rules version of the local
 * stack (a RulesPublished record, as `routing-manager rules publish` would append) and every provider
 * it declares beyond fal and replicate gets a local queue, named `<queue>-<stage>`, wired to the
 * projector through PROVIDER_QUEUE_URLS — the same mapping a deployment uses.
 */

import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient } from '../aws/clients.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { changeRules } from '../commands/change-rules.ts';
import { RoutingManagerError } from '../errors.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { LocalStack } from './provision.ts';

/** `--rules FILE` was refused (or kept losing to another writer): the local run cannot start. */
export class RulesNotPublishedError extends RoutingManagerError {
  constructor(origin: string, why: string) {
    super('rules_not_published', `could not publish ${origin}: ${why}`);
    this.name = 'RulesNotPublishedError';
  }
}

/** Providers whose queues every local stack has (provision.ts). */
const PROVISIONED = new Set(['fal', 'replicate']);

/** Publishes `table` on the stack; returns the queue URL of each provider that needed a new queue. */
export async function publishLocalRules(
  stack: LocalStack,
  table: RoutingTable,
  origin: string,
): Promise<Record<string, string>> {
  const sqs = new SQSClient({});
  const documents = createDocumentClient();
  try {
    const queueUrls: Record<string, string> = {};
    for (const [provider, { queue }] of Object.entries(table.providers)) {
      if (PROVISIONED.has(provider)) continue;
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${queue}-${stack.stage}` }));
      if (QueueUrl) queueUrls[provider] = QueueUrl;
    }
    const published = await changeRules(
      {
        type: 'PublishRules',
        data: {
          table,
          gate: null,
          force: false,
          by: 'npm run local',
          why: `npm run local --rules ${origin}`,
        },
      },
      { rules: new DynamoDbRulesLog(documents, stack.tables.routingLog), now: () => new Date() },
    );
    if (published.outcome === 'refused' || published.outcome === 'contended') {
      throw new RulesNotPublishedError(origin, published.message);
    }
    return queueUrls;
  } finally {
    sqs.destroy();
    documents.destroy();
  }
}
