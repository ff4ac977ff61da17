/**
 * The heartbeat publisher port: one beat of `Agent/RoutingManager` `Heartbeat` for a stage.
 * Adapter: src/aws/cloudwatch-heartbeat-publisher.ts.
 */

export interface Heartbeat {
  readonly stage: string;
  readonly at: Date;
}

export interface HeartbeatPublisher {
  publishHeartbeat(heartbeat: Heartbeat): Promise<void>;
}
