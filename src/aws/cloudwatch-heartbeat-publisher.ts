/**
 * Publishes the Routing Manager heartbeat: the only module that writes to CloudWatch.
 *
 * Two data points per beat, one request:
 * - `Agent/RoutingManager` `Heartbeat` without dimensions: the contract the Admin Dashboard
 *   auto-discovers agents by (`Agent/<Name>/Heartbeat`).
 * - the same metric with dimension `Stage`: what the stack's missing-heartbeat alarm watches, so a
 *   healthy dev stack in the same account can never hide a silent prod one.
 */
import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { HEARTBEAT_METRIC_NAME, HEARTBEAT_NAMESPACE } from '../config/heartbeat-config.ts';
import type { Heartbeat, HeartbeatPublisher } from '../ports/heartbeat-publisher.ts';

export class CloudWatchHeartbeatPublisher implements HeartbeatPublisher {
  readonly #client: CloudWatchClient;

  constructor(client: CloudWatchClient) {
    this.#client = client;
  }

  async publishHeartbeat({ stage, at }: Heartbeat): Promise<void> {
    const beat = { MetricName: HEARTBEAT_METRIC_NAME, Value: 1, Unit: 'Count' as const, Timestamp: at };
    await this.#client.send(
      new PutMetricDataCommand({
        Namespace: HEARTBEAT_NAMESPACE,
        MetricData: [beat, { ...beat, Dimensions: [{ Name: 'Stage', Value: stage }] }],
      }),
    );
  }
}
