/**
 * Reads back what the pipeline actually left on the emulators — provider queues, the captured
 * announcements, the Jobs table — so `npm run local` reports effects, not intentions.
 *
 * Queues are read without consuming them: every message is received (hidden for a moment), then
 * made visible again, so a `--keep` session still finds them where a provider would.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/clients.ts';

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: Record<string, unknown>;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Every message on the queue right now, left on the queue. */
export async function peekQueue(sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]> {
  const seen: QueuedMessage[] = [];
  const handles: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      handles.push(message);
      seen.push({
        messageId: message.MessageId as string,
        body: parseBody(message.Body),
        attributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.StringValue ?? '',
          ]),
        ),
      });
    }
  }
  for (let i = 0; i < handles.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: handles.slice(i, i + 10).map((message, j) => ({
          Id: String(j),
          ReceiptHandle: message.ReceiptHandle as string,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return seen;
}

function parseBody(body: string | undefined): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body ?? 'null');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface ReadBackClients {
  readonly sqs: SQSClient;
  readonly documents: DynamoDBDocumentClient;
  destroy(): void;
}

export function readBackClients(): ReadBackClients {
  const sqs = new SQSClient({});
  const documents = createDocumentClient();
  return {
    sqs,
    documents,
    destroy: () => {
      sqs.destroy();
      documents.destroy();
    },
  };
}

/** An announcement captured from the bus: the EventBridge event the capture rule delivered. */
export interface CapturedAnnouncement {
  readonly detailType: string;
  readonly announcementId: string;
  readonly jobId: string | null;
  /** The announced event's `detail`, as it landed. */
  readonly detail: Record<string, unknown>;
}

export function announcementOf(message: QueuedMessage): CapturedAnnouncement | null {
  const detail = message.body.detail as Record<string, unknown> | undefined;
  if (!detail || typeof detail.announcementId !== 'string') return null;
  return {
    detailType: String(message.body['detail-type']),
    announcementId: detail.announcementId,
    jobId: typeof detail.jobId === 'string' ? detail.jobId : null,
    detail,
  };
}
