/**
 * The hold backlog on SQS (HoldQueue-<Stage>, a standard queue with a dead-letter queue): one
 * SendMessage per message, its wait as the message's DelaySeconds (at most 900 s, so a longer hold
 * is a chain of re-checks). Standard, not FIFO: FIFO queues take no per-message delay, and the
 * order of held jobs is kept by the waiting lines on the slot ledger, not by the queue.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backlogDelaySec, type HoldBacklog, type HoldMessage } from '../ports/hold-backlog.ts';

export class SqsHoldBacklog implements HoldBacklog {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(client: SQSClient, queueUrl: string) {
    this.#client = client;
    this.#queueUrl = queueUrl;
  }

  async send(message: HoldMessage, delaySec: number): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: backlogDelaySec(delaySec),
      }),
    );
  }
}
