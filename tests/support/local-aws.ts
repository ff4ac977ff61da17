/**
 * Helpers for tests against the emulators: reading what landed on queues (polling with a deadline,
 * never sleeping), reading Jobs items, and wiring a projector whose SDK clients can be faulted or
 * counted through a client middleware.
 */

import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { singleAttemptClientDefaults } from '../../src/aws/clients.ts';
import { DynamoDbContentVault } from '../../src/aws/dynamodb-content-vault.ts';
import { DynamoDbEffectMarkers } from '../../src/aws/dynamodb-effect-markers.ts';
import { DynamoDbJobsTable } from '../../src/aws/dynamodb-jobs-table.ts';
import { EventBridgeAnnouncer } from '../../src/aws/eventbridge-announcer.ts';
import { SqsProviderQueues } from '../../src/aws/sqs-provider-queues.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import type { ProtectedProjectorPorts } from '../../src/projections/content-retention.ts';
import { stackContentPorts } from './content.ts';

/** A short unique stage name (the template's pattern: lower-case letter, then letters/digits). */
export const uniqueStage = (prefix = 't'): string =>
  `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10)}`;

export interface ReceivedMessage {
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly messageId: string;
}

/**
 * Receives from `queueUrl` until `expected` messages arrived, then once more until a poll comes back
 * empty (so extra duplicates would be seen). Messages stay invisible for 5 minutes: each is seen once.
 */
export async function receiveAll(
  queueUrl: string,
  options: { expected: number; timeoutMs?: number; accept?: (m: ReceivedMessage) => boolean },
): Promise<ReceivedMessage[]> {
  const sqs = new SQSClient({});
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const accept = options.accept ?? (() => true);
  const received: ReceivedMessage[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 300,
          WaitTimeSeconds: received.length >= options.expected ? 1 : 0,
          MessageAttributeNames: ['All'],
        }),
      );
      received.push(...Messages.map(toReceived).filter(accept));
      if (Messages.length === 0 && received.length >= options.expected) return received;
      if (Date.now() > deadline) {
        if (received.length >= options.expected) return received;
        throw new Error(
          `only ${received.length}/${options.expected} messages on ${queueUrl} before the deadline`,
        );
      }
    }
  } finally {
    sqs.destroy();
  }
}

function toReceived(message: Message): ReceivedMessage {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return { body: message.Body ?? '', attributes, messageId: message.MessageId ?? '' };
}

/** The EventBridge event captured on the announcements queue. */
export interface CapturedAnnouncement {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
}

/** Announcements about `jobIds` (filtered by announcementId, so a test sees only its own). */
export async function receiveAnnouncements(
  stack: LocalStack,
  options: { expected: number; ids: ReadonlySet<string>; timeoutMs?: number },
): Promise<CapturedAnnouncement[]> {
  const messages = await receiveAll(stack.queues.announcements, {
    expected: options.expected,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    accept: (m) => {
      const event = JSON.parse(m.body) as CapturedAnnouncement;
      return options.ids.has(String(event.detail.announcementId));
    },
  });
  return messages.map((m) => JSON.parse(m.body) as CapturedAnnouncement);
}

export async function readJob(
  stack: LocalStack,
  jobId: string,
): Promise<Record<string, unknown> | undefined> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  try {
    const { Item } = await client.send(
      new GetCommand({ TableName: stack.tables.jobs, Key: { jobId }, ConsistentRead: true }),
    );
    return Item;
  } finally {
    client.destroy();
  }
}

/** How a call is faulted: before it (nothing happened) or after it (it happened, then the process died). */
export type FaultTiming = 'before' | 'after';

export class InjectedFault extends Error {
  constructor(commandName: string, timing: FaultTiming) {
    super(`injected fault ${timing} ${commandName}`);
    this.name = 'InjectedFault';
  }
}

export interface SdkCallLog {
  readonly calls: string[];
}

interface ClientWithStack {
  middlewareStack: { add: (...args: never[]) => void };
}

/**
 * Adds a middleware at the initialize step (outside the SDK's retries) that records every command
 * and, for `fault`, throws before or after the real call.
 */
function instrument(
  client: ClientWithStack,
  log: SdkCallLog,
  fault: { command: string; timing: FaultTiming } | undefined,
) {
  const add = client.middlewareStack.add as unknown as (
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ) => void;
  add(
    (next, context) => async (args) => {
      // lib-dynamodb names its commands BatchGetCommand etc.; the wire names are BatchGetItem etc.
      const name = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      log.calls.push(name);
      if (fault && name === fault.command) {
        if (fault.timing === 'before') throw new InjectedFault(name, 'before');
        await next(args);
        throw new InjectedFault(name, 'after');
      }
      return next(args);
    },
    { step: 'initialize', name: 'testInstrumentation' },
  );
}

/** Projector ports on real SDK clients against the stack, instrumented for counting / faults. */
export function instrumentedPorts(
  stack: LocalStack,
  options: { fault?: { command: string; timing: FaultTiming } } = {},
): { ports: ProtectedProjectorPorts; log: SdkCallLog; destroy: () => void } {
  const log: SdkCallLog = { calls: [] };
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  // As in the Lambda: the non-idempotent sends make one attempt (src/aws/clients.ts).
  const sqs = new SQSClient(singleAttemptClientDefaults);
  const events = new EventBridgeClient(singleAttemptClientDefaults);
  for (const client of [documents, sqs, events]) instrument(client as never, log, options.fault);
  // The content store is outside the effect fault matrix: its faults are specified on their own.
  const contentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const vault = new DynamoDbContentVault(contentClient, stack.tables.content);
  const { contentKeys, kms } = stackContentPorts(stack, vault);
  const now = () => new Date();
  return {
    log,
    ports: {
      markers: new DynamoDbEffectMarkers(documents, stack.tables.effects, { ttlDays: 7, now }),
      sender: new SqsProviderQueues(sqs),
      queueUrls: { fal: stack.queues.fal, replicate: stack.queues.replicate },
      publisher: new EventBridgeAnnouncer(events, stack.eventBusName),
      jobs: new DynamoDbJobsTable(documents, stack.tables.jobs),
      now,
      retry: { extraAttempts: 2, backoffMs: () => 0 },
      content: { keys: contentKeys, store: vault, retentionDays: 30 },
    },
    destroy: () => {
      kms.destroy();
      contentClient.destroy();
      documents.destroy();
      sqs.destroy();
      events.destroy();
    },
  };
}
