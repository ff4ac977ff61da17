/**
 * The front door of a live local stack (`npm run local -- --keep`). There is no Lambda service on
 * the emulators, so the deployed wiring — an EventBridge rule whose target is the router function —
 * becomes a real rule on the stack's bus whose target is an SQS intake queue, drained here into the
 * real handler. Anything that puts a matching event on the bus (the AWS CLI, boto3, the SDK,
 * `routing-manager submit`) is routed exactly as in AWS.
 *
 * One queue serves every intake rule; each delivered event goes to the route whose source and
 * detail-type it carries, so another detail-type (e.g. provider status events) is one more route.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SUBMISSION_DETAIL_TYPE, SUBMISSION_SOURCE } from '../intake/submission.ts';

/** Which events a rule sends to the intake queue (an EventBridge pattern on source and detail-type). */
export interface IntakeRule {
  /** Short name, part of the rule's name: `routing-intake-<name>-<stage>`. */
  readonly name: string;
  readonly source: string;
  readonly detailTypes: readonly string[];
}

/** An EventBridge event as a rule's SQS target receives it. */
export interface DeliveredEvent extends Record<string, unknown> {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: unknown;
}

export interface IntakeRoute extends IntakeRule {
  /**
   * Handles one event and returns a one-line account of what happened (no user content). A throw
   * leaves the event on the queue: it is delivered again, like EventBridge's retry of a failed target.
   */
  readonly handle: (event: DeliveredEvent) => Promise<string>;
}

/** The router's rule, as template.yaml declares it (SubmittedRule). */
export const SUBMISSIONS_RULE: IntakeRule = {
  name: 'submitted',
  source: SUBMISSION_SOURCE,
  detailTypes: [SUBMISSION_DETAIL_TYPE],
};

export interface LiveIntake {
  readonly queueUrl: string;
  readonly ruleNames: readonly string[];
}

/** A failed event is delivered again after this long (the local stand-in for EventBridge's retry). */
const INTAKE_VISIBILITY_TIMEOUT_S = 10;

export async function provisionLiveIntake(
  stack: { readonly stage: string; readonly eventBusName: string },
  rules: readonly IntakeRule[],
): Promise<LiveIntake> {
  const sqs = new SQSClient({});
  const events = new EventBridgeClient({});
  try {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `RoutingIntake-${stack.stage}`,
        Attributes: { VisibilityTimeout: String(INTAKE_VISIBILITY_TIMEOUT_S) },
      }),
    );
    const queueUrl = QueueUrl as string;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const ruleNames: string[] = [];
    for (const rule of rules) {
      const ruleName = `routing-intake-${rule.name}-${stack.stage}`;
      await events.send(
        new PutRuleCommand({
          Name: ruleName,
          EventBusName: stack.eventBusName,
          EventPattern: JSON.stringify({ source: [rule.source], 'detail-type': rule.detailTypes }),
        }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: ruleName,
          EventBusName: stack.eventBusName,
          Targets: [{ Id: 'intake', Arn: Attributes?.QueueArn as string }],
        }),
      );
      ruleNames.push(ruleName);
    }
    return { queueUrl, ruleNames };
  } finally {
    sqs.destroy();
    events.destroy();
  }
}

export interface IntakeDrainerOptions {
  readonly queueUrl: string;
  readonly routes: readonly IntakeRoute[];
  /** One line per event handled, dropped or failed. */
  readonly report: (line: string) => void;
  readonly sqs?: SQSClient;
  /** Long-poll wait of each ReceiveMessage (default 20 s, the SQS maximum). */
  readonly waitSeconds?: number;
}

/** Pause after a ReceiveMessage that failed (e.g. the emulator is restarting). */
const RECEIVE_RETRY_MS = 1000;

export class IntakeQueueDrainer {
  readonly #sqs: SQSClient;
  readonly #ownsClient: boolean;
  readonly #options: IntakeDrainerOptions;

  constructor(options: IntakeDrainerOptions) {
    this.#options = options;
    this.#ownsClient = !options.sqs;
    this.#sqs = options.sqs ?? new SQSClient({});
  }

  /** Long-polls the queue until `signal` aborts (an in-flight poll is abandoned at once). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.receiveOnce(this.#options.waitSeconds ?? 20, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#options.report(`intake: ReceiveMessage failed (${errorName(error)}); retrying`);
        // An abort ends the wait early (and the loop then stops).
        await delay(RECEIVE_RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** One ReceiveMessage and the handling of what it returned; resolves to the number of messages. */
  async receiveOnce(waitSeconds: number, signal?: AbortSignal): Promise<number> {
    const { Messages = [] } = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#options.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (Messages.length === 0) return 0;
    const done: Message[] = [];
    // One at a time, each on its own: a failing event never holds back or fails its neighbours.
    for (const message of Messages) {
      if (await this.#handle(message)) done.push(message);
    }
    if (done.length > 0) {
      const { Failed = [] } = await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#options.queueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle as string,
          })),
        }),
      );
      for (const failure of Failed) {
        this.#options.report(
          `intake: could not delete a handled message (${failure.Code}); it may come again`,
        );
      }
    }
    return Messages.length;
  }

  destroy(): void {
    if (this.#ownsClient) this.#sqs.destroy();
  }

  /** True when the message is finished with (handled, or unusable and dropped). */
  async #handle(message: Message): Promise<boolean> {
    const event = deliveredEventOf(message.Body);
    if (!event) {
      this.#options.report(`intake: dropped message ${message.MessageId}: not an EventBridge event`);
      return true;
    }
    const route = this.#options.routes.find(
      (candidate) =>
        candidate.source === event.source && candidate.detailTypes.includes(event['detail-type']),
    );
    if (!route) {
      this.#options.report(`intake: dropped event ${event.id}: no route for ${event['detail-type']}`);
      return true;
    }
    try {
      this.#options.report(await route.handle(event));
      return true;
    } catch (error) {
      this.#options.report(
        `intake: ${route.name} failed on event ${event.id} (${errorName(error)}); it is delivered again in ${INTAKE_VISIBILITY_TIMEOUT_S} s`,
      );
      return false;
    }
  }
}

export function deliveredEventOf(body: string | undefined): DeliveredEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const event = parsed as Record<string, unknown>;
  const usable =
    typeof event.id === 'string' &&
    typeof event.source === 'string' &&
    typeof event['detail-type'] === 'string';
  return usable ? (event as DeliveredEvent) : null;
}

/** The error's class name only: messages can quote the input. */
const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'unknown error');
