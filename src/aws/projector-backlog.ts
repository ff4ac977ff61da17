/**
 * What the projector has not done, as AWS itself reports it: the IteratorAge of its stream event
 * source (how old the newest record it processed was: its lag; the metric the
 * ProjectorIteratorAge alarm watches) and the messages in its on-failure queue (each one an
 * abandoned batch: the ProjectorOnFailureNotEmpty alarm). Read only — the queue's messages are
 * counted, never received. Used by `routing-manager projector`.
 */
import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface AgePoint {
  readonly at: string;
  readonly maximumMs: number;
}

/** GetMetricStatistics returns at most 1,440 data points per call. */
const MAX_DATAPOINTS = 1440;

/** One minute, or the whole minutes that keep a long window within MAX_DATAPOINTS. */
export function periodSecondsOf(window: { readonly since: Date; readonly until: Date }): number {
  const spanSeconds = Math.max(0, window.until.getTime() - window.since.getTime()) / 1000;
  return Math.max(60, Math.ceil(spanSeconds / MAX_DATAPOINTS / 60) * 60);
}

/** The projector function's IteratorAge, maximum per period (a minute, or more in long windows), oldest first. */
export async function iteratorAges(
  cloudwatch: CloudWatchClient,
  functionName: string,
  window: { readonly since: Date; readonly until: Date },
): Promise<AgePoint[]> {
  const { Datapoints = [] } = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: functionName }],
      StartTime: window.since,
      EndTime: window.until,
      Period: periodSecondsOf(window),
      Statistics: ['Maximum'],
    }),
  );
  return Datapoints.flatMap((point) =>
    point.Timestamp && Number.isFinite(point.Maximum)
      ? [{ at: point.Timestamp.toISOString(), maximumMs: point.Maximum as number }]
      : [],
  ).sort((a, b) => a.at.localeCompare(b.at));
}

export interface QueueDepth {
  readonly queue: string;
  /** null: no such queue (another stage, or a stack without it). */
  readonly visible: number | null;
  readonly inFlight: number | null;
}

const countOf = (value: string | undefined): number => {
  const count = Number(value ?? 0);
  return Number.isFinite(count) ? count : 0;
};

/** The approximate number of messages waiting in (and being read from) a queue, by name. */
export async function queueDepth(sqs: SQSClient, queue: string): Promise<QueueDepth> {
  let queueUrl: string | undefined;
  try {
    ({ QueueUrl: queueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue })));
  } catch (error) {
    if (error instanceof QueueDoesNotExist) return { queue, visible: null, inFlight: null };
    throw error;
  }
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    queue,
    visible: countOf(Attributes.ApproximateNumberOfMessages),
    inFlight: countOf(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}
